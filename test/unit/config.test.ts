import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../../src/shared/config';
import { loadQueries, statements } from '../../src/shared/cypher';

describe('configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.neo4j).toEqual({
      uri: undefined,
      user: 'neo4j',
      password: undefined,
      database: 'neo4j',
    });
    expect(c.localNeo4j.port).toBe(7687);
    expect(c.importUrls).toEqual([]);
    expect(c.sync).toMatchObject({
      source: 'json',
      schedule: { kind: 'interval', ms: 600_000 },
      domains: ['enterprise-attack'],
      heartbeatMs: 3_600_000,
    });
    expect(loadConfig({ TTPGRAPH_SYNC_HEARTBEAT_MS: '0' }).sync.heartbeatMs).toBe(0);
    expect(() => loadConfig({ TTPGRAPH_SYNC_HEARTBEAT_MS: '-1' })).toThrow(
      /TTPGRAPH_SYNC_HEARTBEAT_MS/,
    );
  });

  it('names every bad variable at once', () => {
    expect(() =>
      loadConfig({
        NEO4J_URI: 'http://x',
        TTPGRAPH_NEO4J_PORT: '70000',
        TTPGRAPH_NEO4J_PASSWORD: 'short',
      }),
    ).toThrow(ConfigError);
    const bad = () => loadConfig({ NEO4J_URI: 'http://x', TTPGRAPH_NEO4J_PORT: '70000' });
    expect(bad).toThrow(/NEO4J_URI: must be a neo4j:\/\/ or bolt:\/\/ URI/);
    expect(bad).toThrow(/TTPGRAPH_NEO4J_PORT/);
  });

  it('uses the local password against the local Neo4j and NEO4J_PASSWORD against NEO4J_URI', () => {
    expect(
      loadConfig({ TTPGRAPH_NEO4J_PASSWORD: 'localsecret', NEO4J_PASSWORD: 'x' }).neo4j.password,
    ).toBe('localsecret');
    expect(
      loadConfig({ NEO4J_URI: 'neo4j+s://db.example', NEO4J_PASSWORD: 'remote' }).neo4j.password,
    ).toBe('remote');
  });

  it('splits the import sources on commas and spaces', () => {
    expect(loadConfig({ TTPGRAPH_IMPORT_URLS: 'a.json, b.json  c.json' }).importUrls).toEqual([
      'a.json',
      'b.json',
      'c.json',
    ]);
  });
});

describe('the Cypher loader', () => {
  it('loads queries by name and fails on a missing file', () => {
    expect(loadQueries(['attack/create-nodes'])['attack/create-nodes']).toContain('UNWIND $rows');
    expect(() => loadQueries(['attack/nope'])).toThrow(
      /missing Cypher files under cypher\/: attack\/nope.cypher/,
    );
  });

  it('splits a schema file into statements, comments dropped', () => {
    expect(statements('// c\nCREATE A;\nCREATE B;\n')).toEqual(['CREATE A', 'CREATE B']);
  });
});

describe('the documented configuration', () => {
  const root = path.resolve(__dirname, '../..');
  it.each(['.env.example', 'README.md'])('%s names every variable the service reads', (file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    const missing = CONFIG_VARIABLES.filter((v) => !new RegExp(`\\b${v}\\b`).test(text));
    expect(missing).toEqual([]);
  });
});
