import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const stop = (globalThis as Record<string, unknown>).__TTPGRAPH_NEO4J_STOP__ as
    (() => Promise<void>) | undefined;
  await stop?.();
  const home = process.env.TTPGRAPH_TEST_NEO4J_HOME;
  if (home) rmSync(home, { recursive: true, force: true });
}
