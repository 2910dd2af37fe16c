import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/shared/config';
import { startLocalNeo4j } from '../../src/shared/local-neo4j';

/**
 * One real Neo4j for the whole run: NEO4J_URI when set; else Testcontainers when a Docker engine
 * answers; else the project's local launcher on a free port with a throw-away data directory.
 * The URI reaches the test files through process.env.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.NEO4J_URI) return;
  if (process.env.DOCKER_HOST || existsSync('/var/run/docker.sock')) {
    try {
      const { Neo4jContainer } = await import('@testcontainers/neo4j');
      const container = await new Neo4jContainer('neo4j:5.26-community')
        .withPassword('ttpgraph-test')
        .start();
      process.env.NEO4J_URI = container.getBoltUri();
      process.env.NEO4J_USER = container.getUsername();
      process.env.NEO4J_PASSWORD = container.getPassword();
      (globalThis as Record<string, unknown>).__TTPGRAPH_NEO4J_STOP__ = () => container.stop();
      return;
    } catch (err) {
      process.stderr.write(
        `Testcontainers unavailable (${(err as Error).message}); using the local launcher\n`,
      );
    }
  }
  const cfg = loadConfig({ ...process.env, TTPGRAPH_NEO4J_PORT: '0' }).localNeo4j;
  const home = mkdtempSync(path.join(tmpdir(), 'ttpgraph-test-neo4j-'));
  const neo4j = await startLocalNeo4j({ ...cfg, home, port: 0 });
  process.env.NEO4J_URI = neo4j.uri;
  process.env.TTPGRAPH_TEST_NEO4J_HOME = home;
  (globalThis as Record<string, unknown>).__TTPGRAPH_NEO4J_STOP__ = () => neo4j.stop();
}
