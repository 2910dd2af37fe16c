import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A throw-away directory under the run's scratch root, which the global teardown removes: a
 * backup or a second Neo4j home left in /tmp by each run of the suite costs half a gigabyte.
 */
export function scratchDir(prefix: string): string {
  return mkdtempSync(path.join(process.env.TTPGRAPH_TEST_SCRATCH ?? tmpdir(), prefix));
}
