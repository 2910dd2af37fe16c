import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/shared/config';
import { startLocalNeo4j, type LocalNeo4j } from '../../src/shared/local-neo4j';
import { startServer, type RunningServer } from '../../src/http/server';
import { silentLogger } from '../support/graph';
import { freePort } from '../support/net';
import { TEST_SECRET, analyst } from '../support/api';

// These tests run their own Neo4j processes, apart from the suite's shared one.
const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

function withoutNeo4jUri(): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  delete clean.NEO4J_URI;
  return clean;
}

function ttpgraph(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = { ...withoutNeo4jUri(), ...env };
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI, ...args], { env: clean }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe('ttpgraph db start|status|stop', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ttpgraph-db-'));
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = {
      TTPGRAPH_DATA_DIR: dataDir,
      TTPGRAPH_NEO4J_PORT: String(await freePort()),
    };
  });
  afterAll(async () => {
    await ttpgraph(['db', 'stop'], env);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the local Neo4j in the background, and commands use it', async () => {
    const started = await ttpgraph(['db', 'start'], env);
    expect(started.code).toBe(0);
    expect(started.stdout.trim()).toBe(`bolt://127.0.0.1:${env.TTPGRAPH_NEO4J_PORT}`);
    const status = await ttpgraph(['db', 'status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, uri: started.stdout.trim() });
    const again = await ttpgraph(['db', 'start'], env);
    expect(again.stdout.trim()).toBe(started.stdout.trim());
    const mitre = await ttpgraph(['mitre-status'], env);
    expect(mitre.code).toBe(0);
    expect(mitre.stdout).toContain(`Neo4j ${started.stdout.trim()} (database neo4j): reachable`);
  });

  // Each test starts from the state it needs: `db start` and `db stop` are idempotent.
  it('says so when its port is taken', async () => {
    expect((await ttpgraph(['db', 'start'], env)).code).toBe(0);
    const other = mkdtempSync(path.join(tmpdir(), 'ttpgraph-db-'));
    const r = await ttpgraph(['db', 'start'], { ...env, TTPGRAPH_DATA_DIR: other });
    rmSync(other, { recursive: true, force: true });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`port ${env.TTPGRAPH_NEO4J_PORT} on 127.0.0.1 is taken`));
  });

  it('stops it', async () => {
    expect((await ttpgraph(['db', 'start'], env)).code).toBe(0);
    expect((await ttpgraph(['db', 'stop'], env)).stdout).toMatch(/local Neo4j stopped/);
    const status = await ttpgraph(['db', 'status'], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/not running/);
  });

  it('reports a stopped database at once, without starting one', async () => {
    await ttpgraph(['db', 'stop'], env);
    const started = Date.now();
    const r = await ttpgraph(['mitre-status'], env);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/the local Neo4j is not running .*ttpgraph db start/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const json = await ttpgraph(['mitre-status', '--json'], env);
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout)).toEqual({
      error: expect.stringMatching(/the local Neo4j is not running/),
      exit_code: 5,
    });
    expect((await ttpgraph(['db', 'status'], env)).stdout).toMatch(/not running/);
  });

  it('finds and uses the Neo4j of a running `ttpgraph serve` on the same data directory', async () => {
    await ttpgraph(['db', 'stop'], env);
    const serve = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        ...withoutNeo4jUri(),
        ...env,
        HTTP_PORT: '0',
        JWT_SECRET: 'serve-secret-serve-secret-serve-secret',
        TTPGRAPH_SYNC_INTERVAL: 'off',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        serve.stderr?.on('data', (c: Buffer) => {
          out += c.toString();
          if (/ttpgraph API at /.test(out)) resolve();
        });
        serve.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const status = await ttpgraph(['db', 'status'], env);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(
        new RegExp(
          `running: bolt://127\\.0\\.0\\.1:${env.TTPGRAPH_NEO4J_PORT} .*started by ttpgraph serve \\(pid ${serve.pid}\\)`,
        ),
      );
      const mitre = await ttpgraph(['mitre-status'], env);
      expect(mitre.code).toBe(0);
      expect(mitre.stdout).toMatch(/reachable/);
      const stop = await ttpgraph(['db', 'stop'], env);
      expect(stop.code).toBe(5);
      expect(stop.stderr).toMatch(/belongs to the ttpgraph process .*stop that process instead/);
    } finally {
      serve.kill('SIGTERM');
      await new Promise((r) => serve.once('exit', r));
    }
    expect((await ttpgraph(['db', 'status'], env)).stdout).toMatch(/not running/);
  });
});

describe('the API across a Neo4j restart', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'ttpgraph-restart-'));
  let neo4j: LocalNeo4j;
  let server: RunningServer;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    const cfg = loadConfig({ ...process.env, TTPGRAPH_NEO4J_PORT: String(port) });
    neo4j = await startLocalNeo4j({ ...cfg.localNeo4j, home, port });
  });
  // A server per test: one of them closes it.
  beforeEach(async () => {
    server = await startServer(
      loadConfig({
        ...process.env,
        NEO4J_URI: neo4j.uri,
        HTTP_PORT: '0',
        JWT_SECRET: TEST_SECRET,
        TTPGRAPH_CACHE_BYTES: '0',
        TTPGRAPH_SYNC_INTERVAL: 'off',
      }),
      silentLogger,
    );
  });
  afterEach(async () => {
    await server?.close();
  });
  afterAll(async () => {
    await neo4j?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('answers 503 problems while Neo4j is down and recovers when it is back', async () => {
    // Tenant data: answered with no ATT&CK release loaded (this database holds none).
    const auth = `Bearer ${await analyst()}`;
    await request(server.url)
      .get('/api/v1/mitre/alert-mappings/')
      .set('Authorization', auth)
      .expect(200);
    await neo4j.stop();
    const down = await request(server.url)
      .get('/api/v1/mitre/alert-mappings/')
      .set('Authorization', auth);
    expect(down.status).toBe(503);
    expect(down.type).toBe('application/problem+json');
    expect(down.body.title).toBe('Database unavailable');
    expect((await request(server.url).get('/readyz')).status).toBe(503);
    const cfg = loadConfig({ ...process.env, TTPGRAPH_NEO4J_PORT: String(port) });
    neo4j = await startLocalNeo4j({ ...cfg.localNeo4j, home, port });
    await request(server.url)
      .get('/api/v1/mitre/alert-mappings/')
      .set('Authorization', auth)
      .expect(200);
  });

  it('stops accepting and closes cleanly', async () => {
    const url = server.url;
    await server.close();
    await expect(request(url).get('/healthz')).rejects.toThrow(/ECONNREFUSED/);
    server = undefined as unknown as RunningServer;
  });
});
