import { loadQueries } from '../shared/cypher';
import { NotFoundError } from '../shared/errors';
import type { Graph } from '../shared/neo4j';
import { STIX_ID_RE } from './stix-schema';

const QUERIES = [
  'attack/api-list',
  'attack/api-search',
  'attack/api-get',
  'attack/api-technique-related',
  'attack/api-relationships',
  'attack/api-relationship',
  'attack/api-matrix',
] as const;

/** The ATT&CK collections the API serves, by path, with the STIX types each holds. */
export const RESOURCES = {
  tactics: { types: ['x-mitre-tactic'], noun: 'tactic' },
  techniques: { types: ['attack-pattern'], noun: 'technique' },
  mitigations: { types: ['course-of-action'], noun: 'mitigation' },
  groups: { types: ['intrusion-set'], noun: 'group' },
  software: { types: ['malware', 'tool'], noun: 'software' },
  campaigns: { types: ['campaign'], noun: 'campaign' },
  'data-sources': { types: ['x-mitre-data-source'], noun: 'data source' },
  'data-components': { types: ['x-mitre-data-component'], noun: 'data component' },
  'detection-strategies': { types: ['x-mitre-detection-strategy'], noun: 'detection strategy' },
  analytics: { types: ['x-mitre-analytic'], noun: 'analytic' },
  matrices: { types: ['x-mitre-matrix'], noun: 'matrix' },
} as const;
export type ResourceName = keyof typeof RESOURCES;

export interface ObjectRef {
  id: string | null;
  stix_id: string;
  type: string;
  name: string | null;
  revoked: boolean;
  deprecated: boolean;
}

/** Lists are "any of" the values given; null is not filtered. */
export interface ListFilters {
  domains: string[] | null;
  platforms: string[] | null;
  tactics: string[] | null;
  isSubtechnique: boolean | null;
  parent: string | null;
  softwareTypes: string[] | null;
  includeRevoked: boolean;
  includeDeprecated: boolean;
  modifiedAfter: string | null;
  search: string | null;
}

export interface RelationshipFilters {
  types: string[] | null;
  source: string | null;
  target: string | null;
  includeRevoked: boolean;
  includeDeprecated: boolean;
}

type Node = Record<string, unknown>;

/** A graph node as the API shows it: ATT&CK id as `id`, type-specific fields where they apply. */
export function apiObject(n: Node): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: n.attack_id ?? null,
    stix_id: n.stix_id,
    type: n.type,
    name: n.name ?? null,
    description: n.description ?? null,
    domains: n.domains ?? [],
    platforms: n.platforms ?? [],
    aliases: n.aliases ?? [],
    version: n.version ?? null,
    created: n.created ?? null,
    modified: n.modified ?? null,
    revoked: n.revoked === true,
    deprecated: n.deprecated === true,
    url: n.url ?? null,
  };
  switch (n.type) {
    case 'attack-pattern':
      out.is_subtechnique = n.is_subtechnique === true;
      out.tactics = n.tactic_shortnames ?? [];
      if (typeof n.detection === 'string') out.detection = n.detection;
      break;
    case 'x-mitre-tactic':
      if (typeof n.shortname === 'string') out.shortname = n.shortname;
      break;
    case 'campaign':
      if (typeof n.first_seen === 'string') out.first_seen = n.first_seen;
      if (typeof n.last_seen === 'string') out.last_seen = n.last_seen;
      break;
    case 'malware':
      out.software_type = 'malware';
      out.is_family = n.is_family === true;
      break;
    case 'tool':
      out.software_type = 'tool';
      break;
  }
  return out;
}

const LUCENE_SPECIAL = /[+\-&|!(){}[\]^"~*?:\\/]/g;

/** User text → a Lucene query of its words, all required, the last one as a prefix. */
export function luceneQuery(text: string): string | null {
  const words = text
    .split(/\s+/)
    .map((w) => w.replace(LUCENE_SPECIAL, (c) => `\\${c}`))
    .filter((w) => w.length > 0 && !/^(AND|OR|NOT|TO)$/.test(w));
  if (words.length === 0) return null;
  const last = words.length - 1;
  return words
    .map((w, i) => (i === last && w.length >= 2 && !w.endsWith('\\') ? `(${w} OR ${w}*)` : w))
    .join(' AND ');
}

/** Reads of the ATT&CK graph for the API; no HTTP here. */
export class AttackService {
  private readonly q = loadQueries(QUERIES);

  constructor(private readonly graph: Graph) {}

  async list(resource: ResourceName, f: ListFilters, page: { limit: number; offset: number }) {
    const types: readonly string[] =
      resource === 'software' && f.softwareTypes ? f.softwareTypes : RESOURCES[resource].types;
    const params = {
      types,
      includeRevoked: f.includeRevoked,
      includeDeprecated: f.includeDeprecated,
      domains: f.domains,
      platforms: f.platforms?.map((p) => p.toLowerCase()) ?? null,
      isSubtechnique: f.isSubtechnique,
      modifiedAfter: f.modifiedAfter,
      tactics: f.tactics,
      parent: f.parent,
      limit: page.limit,
      offset: page.offset,
    };
    let rows: Array<{ count: number; results: Node[] }>;
    if (f.search !== null) {
      const query = luceneQuery(f.search);
      if (query === null) return { count: 0, results: [] };
      rows = await this.graph.read(this.q['attack/api-search'], {
        ...params,
        query,
        exact: f.search.trim(),
      });
    } else {
      rows = await this.graph.read(this.q['attack/api-list'], params);
    }
    const [row] = rows;
    return { count: row?.count ?? 0, results: (row?.results ?? []).map(apiObject) };
  }

  /** One object with its revocation pointer; NotFound when the id names nothing of this resource. */
  private async get(
    resource: ResourceName,
    id: string,
    withStix: boolean,
  ): Promise<{ object: Node; revokedBy: ObjectRef | null }> {
    const [row] = await this.graph.read<{ object: Node; revokedBy: ObjectRef | null }>(
      this.q['attack/api-get'],
      { id, types: RESOURCES[resource].types, withStix },
    );
    if (!row) throw new NotFoundError(`no ${RESOURCES[resource].noun} with id ${id}`);
    return row;
  }

  async detail(
    resource: ResourceName,
    id: string,
    opts: { followRevoked: boolean; stix: boolean; relatedLimit: number },
  ) {
    let found = await this.get(resource, id, opts.stix);
    if (opts.followRevoked && found.revokedBy) {
      found = await this.get(resource, found.revokedBy.stix_id, opts.stix);
    }
    if (opts.stix) return JSON.parse(found.object.stix as string) as unknown;
    const detail: Record<string, unknown> = {
      ...apiObject(found.object),
      revoked_by: found.revokedBy,
    };
    if (resource === 'matrices') {
      const [m] = await this.graph.read<{ columns: unknown[] }>(this.q['attack/api-matrix'], {
        stixId: detail.stix_id,
      });
      return { ...detail, columns: m?.columns ?? [] };
    }
    if (resource !== 'techniques') return detail;
    const [rel] = await this.graph.read<{
      killChain: unknown[];
      parent: ObjectRef | null;
      subtechniques: ObjectRef[];
      related: Array<{ kind: string; count: number; results: unknown[] }>;
    }>(this.q['attack/api-technique-related'], {
      id: found.object.stix_id,
      relatedLimit: opts.relatedLimit,
    });
    const related = (kind: string) => {
      const r = rel?.related.find((x) => x.kind === kind);
      return { count: r?.count ?? 0, results: r?.results ?? [] };
    };
    return {
      ...detail,
      kill_chain: rel?.killChain ?? [],
      parent: rel?.parent ?? null,
      subtechniques: rel?.subtechniques ?? [],
      mitigations: related('mitigations'),
      detection_strategies: related('detection_strategies'),
      groups: related('groups'),
      software: related('software'),
      campaigns: related('campaigns'),
    };
  }

  async relationships(
    f: RelationshipFilters,
    page: { limit: number; offset: number },
    stix: boolean,
  ) {
    const [row] = await this.graph.read<{ count: number; results: Node[] }>(
      this.q['attack/api-relationships'],
      { ...f, ...page, withStix: stix },
    );
    return {
      count: row?.count ?? 0,
      results: (row?.results ?? []).map((r) => relationshipView(r, stix)),
    };
  }

  async relationship(id: string, stix: boolean) {
    if (!STIX_ID_RE.test(id)) throw new NotFoundError(`no relationship with id ${id}`);
    const [row] = await this.graph.read<{ relationship: Node }>(this.q['attack/api-relationship'], {
      id,
      withStix: stix,
    });
    if (!row) throw new NotFoundError(`no relationship with id ${id}`);
    return relationshipView(row.relationship, stix);
  }
}

function relationshipView(r: Node, stix: boolean): unknown {
  if (stix) return JSON.parse(r.stix as string) as unknown;
  const rest = { ...r };
  delete rest.stix;
  return {
    ...rest,
    description: rest.description ?? null,
    created: rest.created ?? null,
    modified: rest.modified ?? null,
  };
}
