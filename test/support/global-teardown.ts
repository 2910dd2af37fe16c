import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const stop = (globalThis as Record<string, unknown>).__TTPGRAPH_NEO4J_STOP__ as
    (() => Promise<void>) | undefined;
  await stop?.();
  const scratch = process.env.TTPGRAPH_TEST_SCRATCH;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
