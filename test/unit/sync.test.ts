import { versionChange } from '../../src/attack/diff';
import { loadConfig } from '../../src/shared/config';
import { retryAfterMs } from '../../src/shared/http-client';
import { nextRun, retryDelay } from '../../src/sync/scheduler';
import { compareVersions } from '../../src/attack/versions';

describe('sync helpers', () => {
  it('plans the next run from an interval or a cron expression, in UTC', () => {
    const now = Date.parse('2026-03-10T10:07:30.000Z');
    expect(nextRun({ kind: 'interval', value: '10m', ms: 600_000 }, now)?.toISOString()).toBe(
      '2026-03-10T10:17:30.000Z',
    );
    expect(nextRun({ kind: 'off' }, now)).toBeNull();
    const at = (value: string) => nextRun({ kind: 'cron', value }, now)?.toISOString();
    expect(at('*/15 * * * *')).toBe('2026-03-10T10:15:00.000Z');
    expect(at('0 2 * * *')).toBe('2026-03-11T02:00:00.000Z');
    // Weekdays only: Tuesday 10 March → Friday 13 at 00:00 for "Fridays".
    expect(at('0 0 * * 5')).toBe('2026-03-13T00:00:00.000Z');
    // Six fields: seconds first.
    expect(at('*/20 * * * * *')).toBe('2026-03-10T10:07:40.000Z');
    // Never the instant a run ended at, never a fraction of a second.
    const ended = Date.parse('2026-03-10T10:15:00.250Z');
    expect(nextRun({ kind: 'cron', value: '*/15 * * * *' }, ended)?.toISOString()).toBe(
      '2026-03-10T10:30:00.000Z',
    );
  });

  it('accepts cron expressions only when they are valid', () => {
    const schedule = (v: string) => loadConfig({ TTPGRAPH_SYNC_INTERVAL: v }).sync.schedule;
    expect(schedule('0 */6 * * *')).toEqual({ kind: 'cron', value: '0 */6 * * *' });
    expect(schedule('*/30 * * * * *')).toEqual({ kind: 'cron', value: '*/30 * * * * *' });
    for (const bad of ['99 * * * *', 'x y z a b', '* * * *', '0 0 32 1 *'])
      expect(() => schedule(bad)).toThrow(/TTPGRAPH_SYNC_INTERVAL/);
  });

  it('backs off exponentially with jitter, capped, never under Retry-After', () => {
    const base = 1_000;
    const max = 60_000;
    expect(retryDelay(1, base, max, null, () => 0)).toBe(500);
    expect(retryDelay(1, base, max, null, () => 1)).toBe(1_000);
    expect(retryDelay(4, base, max, null, () => 1)).toBe(8_000);
    expect(retryDelay(30, base, max, null, () => 1)).toBe(60_000);
    expect(retryDelay(30, base, max, null, () => 0)).toBe(30_000);
    expect(retryDelay(1, base, max, 120_000, () => 0.5)).toBe(120_000);
    const spread = new Set(Array.from({ length: 50 }, () => retryDelay(3, base, max, null)));
    expect(spread.size).toBeGreaterThan(40);
    for (const d of spread) expect(d >= 2_000 && d <= 4_000).toBe(true);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-29T10:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Sun, 29 Nov 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });

  it('names version moves as MITRE changelogs do', () => {
    expect(versionChange('1.2', '2.0')).toBe('major_version_changes');
    expect(versionChange('1.2', '1.3')).toBe('minor_version_changes');
    expect(versionChange('1.2', '1.2')).toBe('patches');
    expect(versionChange('2.0', '1.9')).toBe('other_version_changes');
    expect(versionChange(null, '1.0')).toBe('other_version_changes');
  });

  it('orders ATT&CK versions numerically', () => {
    expect(['9.0', '18.1', '17.1', '18.0'].sort(compareVersions)).toEqual([
      '9.0',
      '17.1',
      '18.0',
      '18.1',
    ]);
  });

  it('takes a duration, a cron expression or off as the sync schedule', () => {
    expect(loadConfig({ TTPGRAPH_SYNC_INTERVAL: '90s' }).sync.schedule).toEqual({
      kind: 'interval',
      value: '90s',
      ms: 90_000,
    });
    expect(loadConfig({ TTPGRAPH_SYNC_INTERVAL: '*/10 * * * *' }).sync.schedule).toEqual({
      kind: 'cron',
      value: '*/10 * * * *',
    });
    expect(loadConfig({ TTPGRAPH_SYNC_INTERVAL: 'off' }).sync.schedule).toEqual({ kind: 'off' });
    expect(loadConfig({ SYNC_INTERVAL: '5m' }).sync.schedule).toMatchObject({ ms: 300_000 });
    expect(
      loadConfig({ SYNC_INTERVAL: '5m', TTPGRAPH_SYNC_INTERVAL: '1h' }).sync.schedule,
    ).toMatchObject({ ms: 3_600_000 });
    expect(() => loadConfig({ TTPGRAPH_SYNC_INTERVAL: 'often' })).toThrow(/TTPGRAPH_SYNC_INTERVAL/);
    expect(() =>
      loadConfig({ TTPGRAPH_SYNC_SOURCE: 'taxii', TTPGRAPH_SYNC_DOMAINS: 'pre-attack' }),
    ).toThrow(/no TAXII collection for pre-attack/);
  });
});
