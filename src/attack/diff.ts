import {
  attackReference,
  canonical,
  edgeRow,
  nodeRow,
  type Canonical,
  type EdgeRow,
  type NodeRow,
} from './model';
import type { StixObject } from './stix-schema';

/**
 * The diff of one domain's bundle against the graph: pure functions that say what to write.
 *
 * An object held by several domains' bundles is one node. Each domain's own content hash
 * (`source_hashes`) decides whether that domain's copy changed; the node's content is the most
 * recently modified copy, so importing one domain never undoes another's newer write.
 */

export const CHANGE_CATEGORIES = [
  'added',
  'modified',
  'unchanged',
  'revoked',
  'deprecated',
  'removed',
] as const;
export type ChangeCategory = (typeof CHANGE_CATEGORIES)[number];
export type ChangeCounts = Record<ChangeCategory, number>;

export function emptyCounts(): ChangeCounts {
  return { added: 0, modified: 0, unchanged: 0, revoked: 0, deprecated: 0, removed: 0 };
}

/**
 * The release-note categories of MITRE's changelog tool (mitreattack-python diff_stix), for the
 * objects of a release other than relationships: what an analyst reads to see what moved.
 */
export const CHANGELOG_CATEGORIES = [
  'additions',
  'major_version_changes',
  'minor_version_changes',
  'other_version_changes',
  'patches',
  'revocations',
  'deprecations',
  'deletions',
] as const;
export type ChangelogCategory = (typeof CHANGELOG_CATEGORIES)[number];

export interface ChangelogEntry {
  category: ChangelogCategory;
  type: string;
  stix_id: string;
  attack_id: string | null;
  name: string | null;
  version_from: string | null;
  version_to: string | null;
}

/** Change counts in total and per STIX type, and the changelog entries of the release. */
export class ChangeCounter {
  readonly totals = emptyCounts();
  readonly byType: Record<string, ChangeCounts> = {};
  readonly changelog: ChangelogEntry[] = [];

  add(type: string, category: ChangeCategory): void {
    this.totals[category]++;
    (this.byType[type] ??= emptyCounts())[category]++;
  }

  note(entry: ChangelogEntry): void {
    this.changelog.push(entry);
  }
}

/** "2.1" → [2, 1]; anything else → null (versions are compared only when both parse). */
function parseVersion(v: string | null | undefined): [number, number] | null {
  const m = /^(\d+)\.(\d+)$/.exec(v ?? '');
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** How a changed object's version moved, in the changelog's terms. */
export function versionChange(from: string | null, to: string | null): ChangelogCategory {
  if (from === to) return 'patches';
  const a = parseVersion(from);
  const b = parseVersion(to);
  if (a && b && b[0] > a[0]) return 'major_version_changes';
  if (a && b && b[0] === a[0] && b[1] > a[1]) return 'minor_version_changes';
  return 'other_version_changes';
}

export interface ElementState {
  id: string;
  hash: string;
  modified: string | null;
  revoked: boolean | null;
  deprecated: boolean | null;
  sources: string[];
  sourceHashes: string[];
}
export interface NodeState extends ElementState {
  type: string;
  domains: string[];
  attackId: string | null;
  name: string | null;
  version: string | null;
}
export interface EdgeState extends ElementState, EdgeEnds {}

interface SourceRow {
  id: string;
  sources: string[];
  sourceHashes: string[];
}

export interface NodePlan {
  create: NodeRow[];
  update: NodeRow[];
  setSources: Array<SourceRow & { domains: string[] }>;
  remove: string[];
}

/** Where a STIX relationship's edge is: the edges are found between their two ends. */
export interface EdgeEnds {
  id: string;
  source: string;
  target: string;
}

export interface EdgePlan {
  create: EdgeRow[];
  /** Edges replaced (deleted, then created again) or removed. */
  remove: EdgeEnds[];
  setSources: Array<SourceRow & EdgeEnds>;
}

export function writesIn(plan: NodePlan | EdgePlan): number {
  return Object.values(plan).reduce((n: number, rows: unknown[]) => n + rows.length, 0);
}

function hashFor(sourceHashes: string[], domain: string): string | undefined {
  const prefix = `${domain}=`;
  return sourceHashes.find((s) => s.startsWith(prefix))?.slice(prefix.length);
}

function withHash(sourceHashes: string[], domain: string, hash: string | null): string[] {
  const kept = sourceHashes.filter((s) => !s.startsWith(`${domain}=`));
  return hash === null ? kept : [...kept, `${domain}=${hash}`].sort();
}

function union(...lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}

function time(s: string | null | undefined): number {
  const t = s ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

export interface DiffContext {
  domain: string;
  force: boolean;
  counter: ChangeCounter;
  /** The bundle's canonical JSON and hashes, by id, as the parse computed them. */
  canonical: ReadonlyMap<string, Canonical>;
}

function canonicalOf(ctx: DiffContext, obj: StixObject): Canonical {
  return ctx.canonical.get(obj.id) ?? canonical(obj);
}

/** The changelog's words for an object of the bundle (relationships are only counted). */
function changelogCategory(
  obj: StixObject,
  prev: NodeState | undefined,
  known: boolean,
): ChangelogCategory {
  if (!prev || !known) return 'additions';
  if (obj.revoked === true && !prev.revoked) return 'revocations';
  if (obj.x_mitre_deprecated === true && !prev.deprecated) return 'deprecations';
  return versionChange(prev.version, obj.x_mitre_version ?? null);
}

/** Counts one object of the bundle against what the domain held before. */
function classify(
  ctx: DiffContext,
  obj: StixObject,
  prev: ElementState | undefined,
  hash: string,
  node?: { prev: NodeState | undefined },
) {
  const prevHash = prev ? hashFor(prev.sourceHashes, ctx.domain) : undefined;
  if (prevHash === hash) return ctx.counter.add(obj.type, 'unchanged');
  if (node) {
    ctx.counter.note({
      category: changelogCategory(obj, node.prev, prevHash !== undefined),
      type: obj.type,
      stix_id: obj.id,
      attack_id: attackReference(obj).id ?? null,
      name: typeof obj.name === 'string' ? obj.name : null,
      version_from: prevHash === undefined ? null : (node.prev?.version ?? null),
      version_to: obj.x_mitre_version ?? null,
    });
  }
  if (!prev || prevHash === undefined) return ctx.counter.add(obj.type, 'added');
  ctx.counter.add(obj.type, 'modified');
  if (obj.revoked === true && !prev.revoked) ctx.counter.add(obj.type, 'revoked');
  if (obj.x_mitre_deprecated === true && !prev.deprecated) ctx.counter.add(obj.type, 'deprecated');
}

/** Whether this domain's copy becomes the element's content. */
function contentWins(ctx: DiffContext, prev: ElementState, hash: string, modified: unknown) {
  if (ctx.force) return true;
  // A copy this domain already had never overwrites another domain's newer write.
  if (hash === prev.hash || hashFor(prev.sourceHashes, ctx.domain) === hash) return false;
  const alone = prev.sources.every((s) => s === ctx.domain);
  return alone || time(modified as string | undefined) >= time(prev.modified);
}

function needsSources(ctx: DiffContext, prev: ElementState, hash: string): boolean {
  return hashFor(prev.sourceHashes, ctx.domain) !== hash || !prev.sources.includes(ctx.domain);
}

/** The writes for some of the bundle's objects (the bundle is diffed in chunks). */
export function planNodes(
  ctx: DiffContext,
  objects: StixObject[],
  state: Map<string, NodeState>,
): NodePlan {
  const plan: NodePlan = { create: [], update: [], setSources: [], remove: [] };
  for (const obj of objects) {
    const c = canonicalOf(ctx, obj);
    const prev = state.get(obj.id);
    classify(ctx, obj, prev, c.hash, { prev });
    if (!prev) {
      const row = nodeRow(obj, c);
      const domains = union(obj.x_mitre_domains ?? [], [ctx.domain]);
      const bookkeeping = {
        sources: [ctx.domain],
        source_hashes: [`${ctx.domain}=${c.hash}`],
        domains,
      };
      plan.create.push({ ...row, props: { ...row.props, ...bookkeeping } });
      continue;
    }
    const sources = union(prev.sources, [ctx.domain]);
    const sourceHashes = withHash(prev.sourceHashes, ctx.domain, c.hash);
    const domains = union(prev.domains, obj.x_mitre_domains ?? [], [ctx.domain]);
    if (contentWins(ctx, prev, c.hash, obj.modified)) {
      const row = nodeRow(obj, c);
      plan.update.push({
        ...row,
        props: { ...row.props, sources, source_hashes: sourceHashes, domains },
      });
    } else if (needsSources(ctx, prev, c.hash)) {
      plan.setSources.push({ id: obj.id, sources, sourceHashes, domains });
    }
  }
  return plan;
}

/** Nodes the domain held that its bundle no longer has: deleted, or kept for other domains. */
export function planNodeRemovals(
  ctx: DiffContext,
  state: Map<string, NodeState>,
  inBundle: Set<string>,
): NodePlan {
  const plan: NodePlan = { create: [], update: [], setSources: [], remove: [] };
  for (const prev of state.values()) {
    if (!prev.sources.includes(ctx.domain) || inBundle.has(prev.id)) continue;
    ctx.counter.add(prev.type, 'removed');
    ctx.counter.note({
      category: 'deletions',
      type: prev.type,
      stix_id: prev.id,
      attack_id: prev.attackId,
      name: prev.name,
      version_from: prev.version,
      version_to: null,
    });
    const sources = prev.sources.filter((s) => s !== ctx.domain);
    if (sources.length === 0) {
      plan.remove.push(prev.id);
    } else {
      plan.setSources.push({
        id: prev.id,
        sources,
        sourceHashes: withHash(prev.sourceHashes, ctx.domain, null),
        domains: prev.domains.filter((d) => d !== ctx.domain),
      });
    }
  }
  return plan;
}

export function planEdges(
  ctx: DiffContext,
  relationships: StixObject[],
  state: Map<string, EdgeState>,
): EdgePlan {
  const plan: EdgePlan = { create: [], remove: [], setSources: [] };
  for (const rel of relationships) {
    const c = canonicalOf(ctx, rel);
    const prev = state.get(rel.id);
    classify(ctx, rel, prev, c.hash);
    if (!prev) {
      const row = edgeRow(rel, c);
      const bookkeeping = { sources: [ctx.domain], source_hashes: [`${ctx.domain}=${c.hash}`] };
      plan.create.push({ ...row, props: { ...row.props, ...bookkeeping } });
      continue;
    }
    const sources = union(prev.sources, [ctx.domain]);
    const sourceHashes = withHash(prev.sourceHashes, ctx.domain, c.hash);
    if (contentWins(ctx, prev, c.hash, rel.modified)) {
      // Endpoints or type may have changed: an edge is replaced, never patched.
      plan.remove.push({ id: rel.id, source: prev.source, target: prev.target });
      const row = edgeRow(rel, c);
      plan.create.push({ ...row, props: { ...row.props, sources, source_hashes: sourceHashes } });
    } else if (needsSources(ctx, prev, c.hash)) {
      plan.setSources.push({
        id: rel.id,
        source: prev.source,
        target: prev.target,
        sources,
        sourceHashes,
      });
    }
  }
  return plan;
}

export function planEdgeRemovals(
  ctx: DiffContext,
  state: Map<string, EdgeState>,
  inBundle: Set<string>,
): EdgePlan {
  const plan: EdgePlan = { create: [], remove: [], setSources: [] };
  for (const prev of state.values()) {
    if (!prev.sources.includes(ctx.domain) || inBundle.has(prev.id)) continue;
    ctx.counter.add('relationship', 'removed');
    const sources = prev.sources.filter((s) => s !== ctx.domain);
    if (sources.length === 0) {
      plan.remove.push({ id: prev.id, source: prev.source, target: prev.target });
    } else {
      plan.setSources.push({
        id: prev.id,
        source: prev.source,
        target: prev.target,
        sources,
        sourceHashes: withHash(prev.sourceHashes, ctx.domain, null),
      });
    }
  }
  return plan;
}
