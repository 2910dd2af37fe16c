import { loadQueries, statements } from '../shared/cypher';
import type { Graph } from '../shared/neo4j';

/** Applies cypher/schema.cypher (idempotent) and waits until every index is online. */
export async function applySchema(graph: Graph): Promise<void> {
  const { schema } = loadQueries(['schema']);
  for (const statement of statements(schema)) await graph.write(statement);
  await graph.write('CALL db.awaitIndexes(300)');
}
