import { loadQueries } from '../shared/cypher';
import type { Graph } from '../shared/neo4j';

/** One active technique and the text ATT&CK labels it with. */
export interface TechniqueDoc {
  stixId: string;
  attackId: string;
  name: string;
  description: string;
  detection: string;
  domains: string[];
  platforms: string[];
  parent: string | null;
  tactics: string[];
  /** Procedure examples: what a group, software or campaign (`source`) did with it. */
  procedures: Array<{ source: string; text: string }>;
  /** Detection strategies and their analytics (with log sources), one text each. */
  detections: string[];
}

/** A group or software: its names imply the techniques it uses. */
export interface ActorDoc {
  stixId: string;
  attackId: string | null;
  name: string;
  aliases: string[];
  kind: 'group' | 'software';
  techniques: string[];
}

/** Everything the engine is built from: read from the graph, the same for every replica. */
export interface Corpus {
  techniques: TechniqueDoc[];
  actors: ActorDoc[];
  revoked: Array<{ from: string; to: string }>;
  tactics: Array<{ shortname: string; id: string | null; name: string }>;
}

const QUERIES = ['enrichment/techniques', 'enrichment/actors', 'enrichment/vocabulary'] as const;

export async function loadCorpus(graph: Graph): Promise<Corpus> {
  const q = loadQueries(QUERIES);
  const [techniques, actors, [vocabulary]] = await Promise.all([
    graph.read<TechniqueDoc>(q['enrichment/techniques']),
    graph.read<ActorDoc>(q['enrichment/actors']),
    graph.read<Pick<Corpus, 'revoked' | 'tactics'>>(q['enrichment/vocabulary']),
  ]);
  return {
    techniques,
    actors,
    revoked: vocabulary?.revoked ?? [],
    tactics: vocabulary?.tactics ?? [],
  };
}
