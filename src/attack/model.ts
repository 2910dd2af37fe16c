import { createHash } from 'node:crypto';
import type { StixObject } from './stix-schema';

/**
 * STIX objects → graph rows. Pure functions: the importer decides what to write, Cypher writes it.
 * The graph model is described in docs/architecture.md.
 */

const TYPE_LABELS: Record<string, string[]> = {
  'x-mitre-tactic': ['Tactic'],
  'attack-pattern': ['Technique'],
  'course-of-action': ['Mitigation'],
  'intrusion-set': ['Group'],
  malware: ['Software', 'Malware'],
  tool: ['Software', 'Tool'],
  campaign: ['Campaign'],
  'x-mitre-data-source': ['DataSource'],
  'x-mitre-data-component': ['DataComponent'],
  'x-mitre-detection-strategy': ['DetectionStrategy'],
  'x-mitre-analytic': ['Analytic'],
  'x-mitre-matrix': ['Matrix'],
  'x-mitre-asset': ['Asset'],
  identity: ['Identity'],
  'marking-definition': ['MarkingDefinition'],
  'x-mitre-collection': ['Collection'],
};

/** Every type label the model can give, so that an update can drop the ones that no longer apply. */
export function typeLabels(obj: StixObject): string[] {
  const known = TYPE_LABELS[obj.type];
  // Other STIX types (reports, indicators, custom x- types) keep a label derived from the type.
  const labels = known
    ? [...known]
    : [
        'Stix' +
          obj.type
            .split('-')
            .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
            .join(''),
      ];
  if (obj.type === 'attack-pattern' && obj.x_mitre_is_subtechnique === true)
    labels.push('SubTechnique');
  return labels;
}

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortedCopy);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort())
    out[k] = sortedCopy((value as Record<string, unknown>)[k]);
  return out;
}

/**
 * Canonical JSON (keys sorted at every level) so that key order never counts as a change. It is
 * also what the graph stores as an object's `stix`: the same JSON document, in one fixed order.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedCopy(value));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function contentHash(obj: unknown): string {
  return sha256(canonicalJson(obj));
}

/** An object's canonical JSON and its hash, computed once for both uses. */
export interface Canonical {
  json: string;
  hash: string;
}

export function canonical(obj: unknown): Canonical {
  const json = canonicalJson(obj);
  return { json, hash: sha256(json) };
}

/** The ATT&CK reference: the external reference whose source is one of MITRE's ATT&CK domains. */
export function attackReference(obj: StixObject): { id?: string; url?: string } {
  const ref = obj.external_references?.find(
    (r) =>
      typeof r.source_name === 'string' &&
      /^mitre-(attack|mobile-attack|ics-attack)$/.test(r.source_name),
  );
  return { id: ref?.external_id, url: ref?.url };
}

/** A kill chain name → the ATT&CK domain its tactics belong to (mitre-attack is Enterprise). */
export function killChainDomain(killChainName: string): string {
  return killChainName === 'mitre-attack'
    ? 'enterprise-attack'
    : killChainName.replace(/^mitre-/, '');
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string')
    ? (value as string[])
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export interface NodeRow {
  id: string;
  labels: string[];
  created: string | null;
  modified: string | null;
  props: Record<string, unknown>;
}

/** Node properties, without `sources` (which bundles hold it): the importer adds that. */
export function nodeRow(obj: StixObject, c: Canonical): NodeRow {
  const ref = attackReference(obj);
  const phases = obj.kill_chain_phases ?? [];
  const props: Record<string, unknown> = {
    stix_id: obj.id,
    type: obj.type,
    attack_id: ref.id ?? null,
    url: ref.url ?? null,
    name: str(obj.name) ?? null,
    description: str(obj.description) ?? null,
    domains: obj.x_mitre_domains ?? [],
    platforms: obj.x_mitre_platforms ?? [],
    aliases: obj.aliases ?? obj.x_mitre_aliases ?? [],
    version: obj.x_mitre_version ?? null,
    attack_spec_version: obj.x_mitre_attack_spec_version ?? null,
    revoked: obj.revoked === true,
    deprecated: obj.x_mitre_deprecated === true,
    hash: c.hash,
    stix: c.json,
  };
  switch (obj.type) {
    case 'attack-pattern':
      props.is_subtechnique = obj.x_mitre_is_subtechnique === true;
      props.detection = str(obj.x_mitre_detection) ?? null;
      props.kill_chain_phases = phases.map((p) => `${p.kill_chain_name}:${p.phase_name}`);
      props.tactic_shortnames = [...new Set(phases.map((p) => p.phase_name))];
      props.data_sources = strings(obj.x_mitre_data_sources) ?? [];
      props.permissions_required = strings(obj.x_mitre_permissions_required) ?? [];
      break;
    case 'x-mitre-tactic':
      props.shortname = str(obj.x_mitre_shortname) ?? null;
      break;
    case 'campaign':
      props.first_seen = str(obj.first_seen) ?? null;
      props.last_seen = str(obj.last_seen) ?? null;
      break;
    case 'malware':
      props.is_family = obj.is_family === true;
      break;
    case 'x-mitre-collection':
      props.collection_version = obj.x_mitre_version ?? null;
      break;
  }
  // Neo4j stores no nulls: dropping them keeps `SET n = props` exact.
  for (const k of Object.keys(props)) if (props[k] === null) delete props[k];
  return {
    id: obj.id,
    labels: typeLabels(obj),
    created: obj.created ?? null,
    modified: obj.modified ?? null,
    props,
  };
}

/** The edge type for a STIX relationship_type: `subtechnique-of` → `SUBTECHNIQUE_OF`. */
export function edgeType(relationshipType: string): string {
  return relationshipType.toUpperCase().replace(/-/g, '_');
}

export interface EdgeRow {
  id: string;
  type: string;
  source: string;
  target: string;
  created: string | null;
  modified: string | null;
  props: Record<string, unknown>;
}

export function edgeRow(rel: StixObject, c: Canonical): EdgeRow {
  const r = rel as StixObject & {
    relationship_type: string;
    source_ref: string;
    target_ref: string;
  };
  const props: Record<string, unknown> = {
    stix_id: r.id,
    relationship_type: r.relationship_type,
    description: str(r.description) ?? null,
    revoked: r.revoked === true,
    deprecated: r.x_mitre_deprecated === true,
    hash: c.hash,
    stix: c.json,
  };
  for (const k of Object.keys(props)) if (props[k] === null) delete props[k];
  return {
    id: r.id,
    type: edgeType(r.relationship_type),
    source: r.source_ref,
    target: r.target_ref,
    created: r.created ?? null,
    modified: r.modified ?? null,
    props,
  };
}

/** An edge that the model derives from an object's own fields rather than from a relationship. */
export interface DerivedEdge {
  from: string;
  type: string;
  to: string;
  props: Record<string, unknown>;
}

/** Technique → tactic links, resolved in Cypher by shortname within the kill chain's domain. */
export interface TacticLink {
  from: string;
  shortname: string;
  domain: string;
}

// Fields that every object carries or that would only add noise: kept in the STIX JSON only.
const IGNORED_REF_FIELDS = new Set([
  'created_by_ref',
  'object_marking_refs',
  'x_mitre_modified_by_ref',
  'x_mitre_contents',
  'source_ref',
  'target_ref',
]);
const MODELLED_REF_FIELDS = new Set([
  'tactic_refs',
  'x_mitre_analytic_refs',
  'x_mitre_data_source_ref',
]);

export function derivedEdges(obj: StixObject): { edges: DerivedEdge[]; tactics: TacticLink[] } {
  const edges: DerivedEdge[] = [];
  const tactics: TacticLink[] = [];
  const refs = (field: string) => (strings(obj[field]) ?? []).filter((r) => r !== '');
  refs('tactic_refs').forEach((to, order) =>
    edges.push({ from: obj.id, type: 'HAS_TACTIC', to, props: { order } }),
  );
  refs('x_mitre_analytic_refs').forEach((to, order) =>
    edges.push({ from: obj.id, type: 'HAS_ANALYTIC', to, props: { order } }),
  );
  const dataSource = str(obj.x_mitre_data_source_ref);
  if (dataSource) edges.push({ from: obj.id, type: 'IN_DATA_SOURCE', to: dataSource, props: {} });
  const logSources = Array.isArray(obj.x_mitre_log_source_references)
    ? obj.x_mitre_log_source_references
    : [];
  for (const ls of logSources as Array<Record<string, unknown>>) {
    const to = str(ls?.x_mitre_data_component_ref);
    if (!to) continue;
    const props: Record<string, unknown> = {};
    if (str(ls.name)) props.name = ls.name;
    if (str(ls.channel)) props.channel = ls.channel;
    edges.push({ from: obj.id, type: 'USES_DATA_COMPONENT', to, props });
  }
  for (const [field, value] of Object.entries(obj)) {
    if (IGNORED_REF_FIELDS.has(field) || MODELLED_REF_FIELDS.has(field)) continue;
    if (!field.endsWith('_ref') && !field.endsWith('_refs')) continue;
    const list = typeof value === 'string' ? [value] : (strings(value) ?? []);
    for (const to of list)
      if (to !== '') edges.push({ from: obj.id, type: 'REFERS_TO', to, props: { field } });
  }
  if (obj.type === 'attack-pattern') {
    for (const p of obj.kill_chain_phases ?? []) {
      tactics.push({
        from: obj.id,
        shortname: p.phase_name,
        domain: killChainDomain(p.kill_chain_name),
      });
    }
  }
  return { edges, tactics };
}
