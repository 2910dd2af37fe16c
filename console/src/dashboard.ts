import { api } from './api';
import { clear, h } from './dom';

interface Breakdown {
  top: Array<{ key: string; name: string; entities: number; mappings: number }>;
  tail: { keys: number; entities: number; mappings: number };
  buckets: Array<{ start: string; counts: number[]; other: number }>;
  incidents_by_phase: Array<{ matrix: string; tactic: string; name: string; incidents: number }>;
  totals: { entities: number; mappings: number };
}

/** A horizontal bar for a table cell: its width is the share of the largest, its text the count. */
function bar(n: number, max: number): HTMLElement {
  const pct = max > 0 ? Math.round((n / max) * 100) : 0;
  return h(
    'span',
    { class: 'bar' },
    h('span', { class: `fill w${Math.round(pct / 5) * 5}` }),
    String(n),
  );
}

/** The tenant's breakdown by tactic and by technique over time, and incidents by phase reached. */
export async function dashboardView(main: HTMLElement): Promise<void> {
  const entity = h(
    'select',
    { id: 'dash-entity' },
    ...['alert', 'incident', 'observable'].map((v) => h('option', { value: v }, `${v}s`)),
  );
  const bucket = h(
    'select',
    { id: 'dash-bucket' },
    h('option', { value: 'week' }, 'weeks'),
    h('option', { value: 'day' }, 'days'),
  );
  const body = h('div', { id: 'dashboard' });
  clear(
    main,
    h('h1', {}, 'Dashboard'),
    h(
      'div',
      { class: 'controls' },
      h('label', { for: 'dash-entity' }, 'Count', entity),
      h('label', { for: 'dash-bucket' }, 'By', bucket),
    ),
    body,
  );
  const draw = async () => {
    const q = `entity=${(entity as HTMLSelectElement).value}&bucket=${(bucket as HTMLSelectElement).value}`;
    const [tactics, techniques] = await Promise.all([
      api<Breakdown>(`/dashboard/breakdown/?by=tactic&${q}&top=20`),
      api<Breakdown>(`/dashboard/breakdown/?by=technique&${q}&top=15`),
    ]);
    const maxT = Math.max(0, ...tactics.top.map((t) => t.entities));
    const maxK = Math.max(0, ...techniques.top.map((t) => t.entities));
    const maxP = Math.max(0, ...tactics.incidents_by_phase.map((p) => p.incidents));
    clear(
      body,
      h(
        'p',
        {},
        `${tactics.totals.entities} ${(entity as HTMLSelectElement).value}s, ${tactics.totals.mappings} mappings`,
      ),
      h(
        'table',
        { id: 'by-tactic' },
        h('caption', {}, 'By tactic'),
        h(
          'thead',
          {},
          h('tr', {}, h('th', { scope: 'col' }, 'Tactic'), h('th', { scope: 'col' }, 'Count')),
        ),
        h(
          'tbody',
          {},
          ...tactics.top.map((t) =>
            h('tr', { 'data-key': t.key }, h('td', {}, t.name), h('td', {}, bar(t.entities, maxT))),
          ),
        ),
      ),
      h(
        'table',
        { id: 'top-techniques' },
        h('caption', {}, `Top techniques (and ${techniques.tail.keys} more)`),
        h(
          'thead',
          {},
          h('tr', {}, h('th', { scope: 'col' }, 'Technique'), h('th', { scope: 'col' }, 'Count')),
        ),
        h(
          'tbody',
          {},
          ...techniques.top.map((t) =>
            h(
              'tr',
              { 'data-key': t.key },
              h('td', {}, `${t.key} ${t.name}`),
              h('td', {}, bar(t.entities, maxK)),
            ),
          ),
        ),
      ),
      h(
        'table',
        { id: 'over-time' },
        h('caption', {}, 'Top techniques over time'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'From'),
            ...techniques.top.slice(0, 5).map((t) => h('th', { scope: 'col' }, t.key)),
            h('th', { scope: 'col' }, 'Other'),
          ),
        ),
        h(
          'tbody',
          {},
          ...techniques.buckets.map((b) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, b.start),
              ...b.counts.slice(0, 5).map((c) => h('td', {}, String(c))),
              h('td', {}, String(b.other)),
            ),
          ),
        ),
      ),
      h(
        'table',
        { id: 'by-phase' },
        h('caption', {}, 'Incidents by kill-chain phase reached'),
        h(
          'thead',
          {},
          h('tr', {}, h('th', { scope: 'col' }, 'Phase'), h('th', { scope: 'col' }, 'Incidents')),
        ),
        h(
          'tbody',
          {},
          ...tactics.incidents_by_phase.map((p) =>
            h('tr', {}, h('td', {}, p.name), h('td', {}, bar(p.incidents, maxP))),
          ),
        ),
      ),
    );
  };
  entity.addEventListener('change', () => void draw());
  bucket.addEventListener('change', () => void draw());
  await draw();
}
