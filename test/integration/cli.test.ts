import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Graph } from '../../src/shared/neo4j';
import { ATTACK_COLLECTIONS } from '../../src/shared/config';
import { ImportService } from '../../src/attack/import-service';
import {
  bundleBytes,
  FIXTURE,
  fixtureBundle,
  freshGraph,
  holdLease,
  silentLogger,
} from '../support/graph';
import { AttackSource } from '../support/sync-sources';
import { scratchDir } from '../support/scratch';

const ENTERPRISE = ATTACK_COLLECTIONS['enterprise-attack'] as string;

// The built CLI (Jest's global setup builds it), run as a user would, against the test Neo4j.
const withoutLogLevel = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k !== 'LOG_LEVEL'),
);
const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

function ttpgraph(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      // As a user runs it: no LOG_LEVEL, so an error is one human line on stderr.
      { env: { ...withoutLogLevel, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let graph: Graph;
let server: http.Server;
let base: string;
const tmp = scratchDir('ttpgraph-cli-');

beforeAll(async () => {
  graph = await freshGraph();
  const gz = gzipSync(Buffer.from(JSON.stringify(fixtureBundle())));
  server = http.createServer((req, res) => {
    if (req.url === '/enterprise.json.gz') {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': gz.length,
      });
      res.end(gz);
    } else if (req.url === '/short') {
      // Promises more bytes than it sends, then hangs up.
      res.writeHead(200, { 'content-length': gz.length * 2 });
      res.write(gz, () => res.destroy());
    } else {
      res.writeHead(404).end('not here');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await graph.close();
  await new Promise((r) => server.close(r));
});

/** The fixture held by the graph, its last import a no-op (what the status tests read). */
async function fixtureHeld(): Promise<void> {
  const importer = new ImportService(graph, silentLogger);
  const bytes = readFileSync(FIXTURE);
  await importer.importBytes(bundleBytes(bytes, FIXTURE));
  expect((await importer.importBytes(bundleBytes(bytes, FIXTURE))).changed).toBe(false);
}

describe('ttpgraph CLI', () => {
  it('documents its commands, options and exit codes in --help', async () => {
    const r = await ttpgraph(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['import-mitre', 'mitre-status', 'sync', 'db <action>', 'Exit codes'])
      expect(r.stdout).toContain(word);
    const imp = await ttpgraph(['import-mitre', '--help']);
    for (const opt of [
      '--source',
      '--url',
      '--domain',
      '--force',
      '--relationships',
      '--strict',
      '--json',
    ]) {
      expect(imp.stdout).toContain(opt);
    }
  });

  it('names in --help the environment variables serve and db read', async () => {
    const serve = await ttpgraph(['serve', '--help']);
    for (const v of ['HTTP_PORT', 'TTPGRAPH_NEO4J_PORT', 'TTPGRAPH_IMPORT_URLS', '--port'])
      expect(serve.stdout).toContain(v);
    const db = await ttpgraph(['db', '--help']);
    for (const v of ['TTPGRAPH_DATA_DIR', 'TTPGRAPH_NEO4J_PORT']) expect(db.stdout).toContain(v);
  });

  it('says at once which HTTP port is taken and how to choose another', async () => {
    const started = Date.now();
    const r = await ttpgraph(['serve', '--port', String((server.address() as AddressInfo).port)], {
      HTTP_HOST: '127.0.0.1',
      JWT_SECRET: 'cli-secret-cli-secret-cli-secret-cli',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ttpgraph: port \d+ on 127\.0\.0\.1 is taken .*HTTP_PORT/);
    // Before any Neo4j was started or reached.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a token for a role the policy does not define, naming those it does', async () => {
    const r = await ttpgraph(['token', '--sub', 'eve', '--role', 'hacker'], {
      JWT_SECRET: 'cli-secret-cli-secret-cli-secret-cli',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown role hacker: the policy defines admin, analyst, viewer/);
    const ok = await ttpgraph(['token', '--sub', 'ann', '--role', 'analyst'], {
      JWT_SECRET: 'cli-secret-cli-secret-cli-secret-cli',
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('.')).toHaveLength(3);
  });

  it('rejects an unknown option with exit code 2', async () => {
    const r = await ttpgraph(['import-mitre', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: bogus/);
  });

  it('imports from an http URL and prints the change report as JSON', async () => {
    await graph.write('MATCH (n) DETACH DELETE n');
    const r = await ttpgraph(['import-mitre', '--url', `${base}/enterprise.json.gz`, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ domain: 'enterprise-attack', version: '18.1', changed: true });
    expect(report.totals.added).toBe(43);
  });

  it('prints a summary table, and nothing changes on the second import', async () => {
    expect((await ttpgraph(['import-mitre', '--url', FIXTURE])).code).toBe(0);
    const r = await ttpgraph(['import-mitre', '--url', FIXTURE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/enterprise-attack 18\.1 .*unchanged, nothing written/);
    expect(r.stdout).toMatch(/^attack-pattern\s+0\s+0\s+7\s+0\s+0\s+0$/m);
  });

  it('shows status as JSON with --detailed', async () => {
    await fixtureHeld();
    const r = await ttpgraph(['mitre-status', '--detailed', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.domains).toEqual([
      expect.objectContaining({ domain: 'enterprise-attack', version: '18.1' }),
    ]);
    // JSON is snake_case, as the API answers.
    expect(s.detailed.tactics.map((t: { tactic_id: string }) => t.tactic_id)).toEqual([
      'TA0002',
      'TA0003',
      'TA0005',
    ]);
    expect(s.detailed.constraints.map((c: { name: string }) => c.name)).toContain(
      'attack_object_stix_id',
    );
    expect(s.detailed.last_reports['enterprise-attack'].totals.unchanged).toBe(43);
  });

  it('enriches a JSON-lines file line by line, an error line for each bad one', async () => {
    await fixtureHeld();
    const input = path.join(tmp, 'items.jsonl');
    writeFileSync(
      input,
      [
        JSON.stringify({ id: 'r1', tags: ['attack.t1143'] }),
        'not json',
        '',
        JSON.stringify({
          id: 'r2',
          command_line: 'powershell.exe -enc SQBFAFgAKABOAGUAdwAtAE8AYgBq',
        }),
      ].join('\n'),
    );
    const r = await ttpgraph(['enrich', '--input', input, '--json', '--top-k', '1']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/1 input line\(s\) were not JSON objects/);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // T1143 (Hidden Window) was revoked by T1564.003 (the fixture's revoked-by relationship).
    expect(lines[0]).toMatchObject({
      id: 'r1',
      techniques: [{ technique: 'T1564.003', confidence: 0.98 }],
    });
    expect(lines[1]).toEqual({ line: 2, error: 'not a JSON object' });
    expect(lines[2].id).toBe('r2');
    expect(lines[2].techniques[0]).toMatchObject({ technique: 'T1059.001' });
    expect(lines).toHaveLength(3);
    const missing = await ttpgraph(['enrich', '--input', path.join(tmp, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.jsonl/);
  });

  it('ends quietly when its reader stops reading (`| head`)', async () => {
    await fixtureHeld();
    const input = path.join(tmp, 'many.jsonl');
    // Far more output than a pipe holds, so the CLI is still writing when the reader leaves.
    const line = JSON.stringify({ id: 'x', command_line: 'cmd.exe /c whoami' });
    writeFileSync(input, `${line}\n`.repeat(20_000));
    const child = spawn(process.execPath, [CLI, 'enrich', '--input', input, '--json'], {
      env: withoutLogLevel,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let first = '';
    child.stdout.once('data', (d: Buffer) => {
      first = d.toString();
      child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(JSON.parse(first.split('\n')[0] as string)).toMatchObject({ id: 'x' });
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('shows status as text', async () => {
    await fixtureHeld();
    const r = await ttpgraph(['mitre-status', '--detailed']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/enterprise-attack: techniques per tactic in kill-chain order/);
    expect(r.stdout).toMatch(/^attack-pattern\s+7\s+5\s+1\s+1$/m);
  });

  it.each([
    ['a missing file', () => [path.join(tmp, 'nope.json')], 4, /cannot read .*nope\.json: ENOENT/],
    ['an HTTP 404', () => [`${base}/missing`], 4, /answered HTTP 404/],
    ['a body cut short', () => [`${base}/short`], 4, /broke off|cut short/],
    ['invalid JSON', () => [writeTmp('bad.json', '{"type": "bundle",')], 3, /not valid JSON/],
    [
      'a truncated gzip',
      () => [writeTmp('cut.json.gz', gzipSync('{"type":"bundle"}').subarray(0, 12))],
      3,
      /gzip data is corrupt or truncated/,
    ],
  ])('fails on %s with a readable message and its exit code', async (_name, url, code, message) => {
    const r = await ttpgraph(['import-mitre', '--url', ...url()]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    // One human line, no stack, no JSON log line beside it.
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ttpgraph: /)]);
  });

  it('says when Neo4j cannot be reached (exit code 5)', async () => {
    const r = await ttpgraph(['mitre-status'], { NEO4J_URI: 'bolt://127.0.0.1:1' });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/cannot reach Neo4j at bolt:\/\/127\.0\.0\.1:1/);
  });

  it('names a bad configuration value (exit code 2)', async () => {
    const r = await ttpgraph(['mitre-status'], { TTPGRAPH_NEO4J_PORT: 'seven' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid configuration:\n\s+TTPGRAPH_NEO4J_PORT/);
  });
  it('imports a TAXII 2.1 collection with --source taxii, from --url or TTPGRAPH_TAXII_URL', async () => {
    const taxii = await new AttackSource().start();
    taxii.collections.set(ENTERPRISE, {
      id: ENTERPRISE,
      title: 'Enterprise ATT&CK',
      objects: fixtureBundle().objects.map((object) => ({
        object,
        dateAdded: '2025-11-13T14:00:00.000Z',
      })),
    });
    try {
      // --url names the server (its discovery URL here); the configured one is not asked.
      const r = await ttpgraph(
        ['import-mitre', '--source', 'taxii', '--url', `${taxii.base}/taxii2/`, '--json'],
        { TTPGRAPH_TAXII_URL: 'http://127.0.0.1:1/taxii2/' },
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ domain: 'enterprise-attack', version: '18.1' });
      const again = await ttpgraph(['sync', '--source', 'taxii'], {
        TTPGRAPH_TAXII_URL: `${taxii.base}/api/v21/`,
      });
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/\(taxii\): unchanged in .* 1 request\(s\) to the source/);
      expect(again.stdout).toMatch(/^enterprise-attack\s+unchanged/m);
    } finally {
      await taxii.stop();
    }
  });

  it('says when another sync holds the lease (exit code 6)', async () => {
    const other = await holdLease(graph, 'another-host:1');
    const changed = fixtureBundle();
    (changed.objects[5] as Record<string, unknown>).description = 'changed';
    const r = await ttpgraph([
      'import-mitre',
      '--url',
      writeTmp('changed.json', JSON.stringify(changed)),
    ]);
    await other.release();
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/another sync holds the lease \(another-host:1/);
  });
});

function writeTmp(name: string, content: string | Buffer): string {
  const p = path.join(tmp, name);
  writeFileSync(p, content);
  return p;
}
