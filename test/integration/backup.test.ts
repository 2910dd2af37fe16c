import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { BackupService } from '../../src/operations/backup-service';
import { InvalidBundleError, ConflictError } from '../../src/shared/errors';
import { appSuite, token } from '../support/api';
import { bulkOf } from '../support/replica';
import { scratchDir } from '../support/scratch';

// Tenant data out and back: a backup taken while other writes go on is one consistent state, and
// a restore into a database without tenant data gives back exactly what was backed up (the
// backup of the restored database is the same file, record for record).
const MAPPINGS = Number(process.env.TTPGRAPH_TEST_BACKUP_MAPPINGS ?? 100_000);
const suite = appSuite({ fixture: true });
const dir = scratchDir('ttpgraph-backup-');
const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

const as = (tenant: string, sub = 'alice', roles = ['analyst']) => token({ sub, tenant, roles });
async function call(
  bearer: Promise<string>,
  method: 'get' | 'post' | 'put' | 'patch' | 'delete',
  url: string,
  body?: unknown,
) {
  const r = request(suite.api.app)
    [method](`/api/v1/mitre${url}`)
    .set('authorization', `Bearer ${await bearer}`);
  return body === undefined ? r : r.send(body as object);
}

/** A backup's records without its header's time: what two backups of one state share. */
function records(file: string): string[] {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const header = JSON.parse(lines[0] as string) as Record<string, unknown>;
  delete header.created_at;
  return [JSON.stringify(header), ...lines.slice(1)];
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'LOG_LEVEL'));
    execFile(process.execPath, [CLI, ...args], { env }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const mappingIds: string[] = [];
const KINDS = ['incident', 'alert', 'observable', 'observable'];
/** The varied mappings as the API answers them. */
const readMappings = () =>
  Promise.all(
    mappingIds.map(
      async (id, i) =>
        (await call(as('acme', 'alice'), 'get', `/${KINDS[i]}-mappings/${id}/`)).body,
    ),
  );

beforeAll(async () => {
  // Varied data in two tenants: parents, a restricted incident, changes and a deletion (audit).
  const acme = as('acme');
  const made = async (url: string, body: Record<string, unknown>) => {
    const r = await call(acme, 'post', url, body);
    expect({ url, status: r.status, body: r.status === 201 ? {} : r.body }).toEqual({
      url,
      status: 201,
      body: {},
    });
    mappingIds.push(r.body.id as string);
    return r.body.id as string;
  };
  await made('/incident-mappings/', {
    incident_id: 'I-1',
    technique: 'T1059',
    occurred_at: '2026-03-01T10:00:00.123456Z',
  });
  await made('/alert-mappings/', {
    alert_id: 'A-1',
    incident_id: 'I-1',
    technique: 'T1059.001',
    confidence: 72,
    procedure: 'powershell -enc …',
  });
  const obs = await made('/observable-mappings/', {
    observable_id: 'O-1',
    alert_id: 'A-1',
    technique: 'T1564.003',
  });
  await made('/observable-mappings/', {
    observable_id: 'O-2',
    alert_id: 'A-1',
    technique: 'T1059.003',
    tactic: 'execution',
  });
  expect(
    (await call(acme, 'patch', `/observable-mappings/${obs}/`, { confidence: 40 })).status,
  ).toBe(200);
  const gone = await made('/alert-mappings/', { alert_id: 'A-2', technique: 'T1059' });
  expect((await call(acme, 'delete', `/alert-mappings/${gone}/`)).status).toBe(204);
  mappingIds.pop();
  const admin = as('acme', 'root-admin', ['admin']);
  expect(
    (
      await call(admin, 'put', '/incidents/I-1/access/', {
        visibility: 'restricted',
        owner: 'alice',
        read_groups: ['ir'],
        edit_groups: [],
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await call(as('globex', 'bob'), 'post', '/alert-mappings/', {
        alert_id: 'G-1',
        technique: 'T1059',
      })
    ).status,
  ).toBe(201);
});

it(`restores ${MAPPINGS.toLocaleString('en')} mappings into an empty database exactly as they were backed up`, async () => {
  const backups = new BackupService(suite.graph);
  // The bulk of it: MAPPINGS mappings of new alerts, in bulks of 10,000 through the service the
  // bulk route calls (the API's own path is tested elsewhere; validating 100,000 answered
  // mappings against the contract took most of this test's time).
  const bulkWriter = {
    tenant: 'bulk',
    userId: 'alice',
    groups: [],
    superuser: false,
    entityScope: 'own' as const,
  };
  for (let done = 0; done < MAPPINGS; done += 10_000) {
    const n = Math.min(10_000, MAPPINGS - done);
    const made = await suite.api.mappings.create(bulkWriter, 'alert', bulkOf(`B${done}`, n).items);
    expect(made).toHaveLength(n);
  }
  const first = path.join(dir, 'first.jsonl');
  const timed = async <T>(what: string, work: () => Promise<T>) => {
    const t = performance.now();
    const out = await work();
    process.stderr.write(`${what}: ${(performance.now() - t).toFixed(0)} ms\n`);
    return out;
  };
  const counts = await timed('backup', () => backups.backup(first));
  expect(counts.mappings).toBe(MAPPINGS + 5);
  expect(counts.tenants).toBe(3);
  const before = await readMappings();
  const trail = (await call(as('acme'), 'get', `/alerts/A-1/events/`)).body;

  await timed('wipe', () => backups.wipe());
  expect(Object.values(await backups.tenantData()).every((n) => n === 0)).toBe(true);
  expect(await timed('restore', () => backups.restore(first))).toEqual(counts);
  const second = path.join(dir, 'second.jsonl');
  await backups.backup(second);
  expect(records(second)).toEqual(records(first));
  // And it reads as it did through the API: the same mappings, audit trail and access.
  const after = await readMappings();
  expect(after).toEqual(before);
  expect((await call(as('acme'), 'get', `/alerts/A-1/events/`)).body).toEqual(trail);
  expect(
    (await call(as('acme', 'victor', ['viewer']), 'get', '/incidents/I-1/access/')).status,
  ).toBe(404); // The tests below make their own, smaller data.
  await backups.wipe();
  // A few minutes on a quiet machine; this bound is for a loaded one, not a target.
}, 900_000);

it('takes one consistent state while bulks are written: each is in the backup whole or not at all', async () => {
  const backups = new BackupService(suite.graph);
  const file = path.join(dir, 'busy.jsonl');
  const bulk = (i: number) =>
    call(as(`busy${i % 2}`), 'post', '/alert-mappings/bulk/', bulkOf(`C${i}`, 2_000));
  // One bulk done before; five sent while the backup starts: in it whole, or not at all.
  expect((await bulk(0)).status).toBe(201);
  const writes = [1, 2, 3, 4, 5].map((i) =>
    new Promise((r) => setTimeout(r, (i - 1) * 100)).then(() => bulk(i)),
  );
  const started = performance.now();
  await backups.backup(file);
  process.stderr.write(`backup under writes: ${(performance.now() - started).toFixed(0)} ms\n`);
  const answers = await Promise.all(writes);
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
  const inBackup = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const r = JSON.parse(line) as { type?: string; entity?: { tenant: string; id: string } };
    if (r.type !== 'mapping' || !r.entity?.tenant.startsWith('busy')) continue;
    const bulkId = r.entity.id.split('-')[0] as string;
    inBackup.set(bulkId, (inBackup.get(bulkId) ?? 0) + 1);
  }
  for (const n of inBackup.values()) expect(n).toBe(2_000);
  expect(inBackup.get('C0')).toBe(2_000);
});

it('refuses a restore over tenant data, and a file cut short or of another format, changing nothing', async () => {
  const backups = new BackupService(suite.graph);
  const file = path.join(dir, 'busy.jsonl');
  const held = await backups.tenantData();
  await expect(backups.restore(file)).rejects.toThrow(ConflictError);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const cut = path.join(dir, 'cut.jsonl');
  writeFileSync(cut, lines.slice(0, -1).join('\n'));
  await expect(backups.restore(cut)).rejects.toThrow(/cut short/);
  const other = path.join(dir, 'other.jsonl');
  writeFileSync(
    other,
    [JSON.stringify({ format: 'ttpgraph-tenant-backup', version: 99 }), ...lines.slice(1)].join(
      '\n',
    ),
  );
  await expect(backups.restore(other)).rejects.toThrow(InvalidBundleError);
  expect(await backups.tenantData()).toEqual(held);
  // The CLI says so and exits non-zero.
  const r = await cli(['restore', cut]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/cut short/);
});

it('backs up and restores from the command line', async () => {
  const file = path.join(dir, 'cli.jsonl');
  const out = await cli(['backup', '--out', file, '--json']);
  expect(out.code).toBe(0);
  const counts = JSON.parse(out.stdout) as { mappings: number };
  expect(counts.mappings).toBeGreaterThan(4);
  await new BackupService(suite.graph).wipe();
  const back = await cli(['restore', file, '--json']);
  expect(back.code).toBe(0);
  expect(JSON.parse(back.stdout)).toEqual(JSON.parse(out.stdout));
});
