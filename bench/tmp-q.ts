import { loadConfig } from '../src/shared/config';
import { openGraph } from '../src/shared/neo4j';
import { readFileSync } from 'node:fs';
(async () => {
  const cfg = loadConfig({ ...process.env, NEO4J_URI: 'bolt://127.0.0.1:7690' });
  const g = await openGraph({ ...cfg.neo4j, uri: 'bolt://127.0.0.1:7690' });
  for (const f of process.argv.slice(2)) {
    const t = Date.now();
    const rows = await g.read<Record<string, unknown>>(readFileSync(f, 'utf8'));
    console.log(f, rows.length, Date.now() - t, 'ms', JSON.stringify(rows[0]).slice(0, 600));
  }
  await g.close();
})();
