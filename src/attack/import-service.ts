import { loadQueries } from '../shared/cypher';
import { InvalidBundleError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Graph, Tx } from '../shared/neo4j';
import {
  decodeBundleBytes,
  parseBundle,
  rejectIfErrors,
  type BundleIssue,
  type ParsedBundle,
} from './bundle';
import type { FetchedBundle } from './bundle-source';
import { contentHash, derivedEdges, edgeRow, nodeRow, type EdgeRow, type NodeRow } from './model';
import type { StixObject } from './stix-schema';

const QUERIES = [
  'attack/read-node-state',
  'attack/read-edge-state',
  'attack/existing-ids',
  'attack/create-nodes',
  'attack/update-nodes',
  'attack/set-node-sources',
  'attack/delete-nodes',
  'attack/create-edges',
  'attack/delete-edges',
  'attack/set-edge-sources',
  'attack/delete-derived-edges',
  'attack/create-derived-edges',
  'attack/link-tactics',
  'attack/record-import',
  'attack/read-domain-state',
] as const;

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

export interface ChangeReport {
  domain: string;
  version: string;
  attackSpecVersion: string | null;
  bundleId: string;
  source: string;
  sha256: string;
  appliedAt: string;
  durationMs: number;
  /** False when the graph already held exactly this bundle: nothing was written. */
  changed: boolean;
  force: boolean;
  relationships: boolean;
  totals: ChangeCounts;
  byType: Record<string, ChangeCounts>;
  objectsInBundle: number;
  skipped: number;
  warnings: number;
  /** The first issues found (all of them are counted above). */
  issues: BundleIssue[];
}

export interface ImportOptions {
  domain?: string;
  force?: boolean;
  relationships?: boolean;
  strict?: boolean;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
}

interface ElementState {
  id: string;
  hash: string;
  modified: string | null;
  revoked: boolean | null;
  deprecated: boolean | null;
  sources: string[];
  sourceHashes: string[];
}
interface NodeState extends ElementState {
  type: string;
  domains: string[];
}
interface EdgeState extends ElementState {
  source: string;
  target: string;
}

type SourceRow = { id: string; sources: string[]; sourceHashes: string[] };

/** What one import writes, computed from the diff before anything is written. */
interface Plan {
  totals: ChangeCounts;
  byType: Record<string, ChangeCounts>;
  writes: number;
  createNodes: NodeRow[];
  updateNodes: NodeRow[];
  nodeSources: Array<SourceRow & { domains: string[] }>;
  deleteNodes: string[];
  createEdges: EdgeRow[];
  deleteEdges: Array<{ id: string; source: string }>;
  edgeSources: Array<SourceRow & { source: string }>;
}

const MAX_REPORTED_ISSUES = 200;

function emptyCounts(): ChangeCounts {
  return { added: 0, modified: 0, unchanged: 0, revoked: 0, deprecated: 0, removed: 0 };
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

/** The plan for a bundle the domain already holds byte for byte: everything unchanged. */
function unchangedPlan(objects: StixObject[]): Plan {
  const totals = emptyCounts();
  const byType: Record<string, ChangeCounts> = {};
  for (const o of objects) {
    totals.unchanged++;
    (byType[o.type] ??= emptyCounts()).unchanged++;
  }
  return {
    totals,
    byType,
    writes: 0,
    createNodes: [],
    updateNodes: [],
    nodeSources: [],
    deleteNodes: [],
    createEdges: [],
    deleteEdges: [],
    edgeSources: [],
  };
}

/** Which ATT&CK domain a bundle holds: the caller's word, else its active matrix, else its objects. */
export function detectDomain(objects: StixObject[], explicit?: string): string {
  if (explicit) return explicit;
  const matrix = objects.find(
    (o) => o.type === 'x-mitre-matrix' && !o.x_mitre_deprecated && !o.revoked,
  );
  const fromMatrix = matrix?.external_references?.find((r) => r.external_id)?.external_id;
  if (fromMatrix) return fromMatrix;
  const votes = new Map<string, number>();
  for (const o of objects)
    for (const d of o.x_mitre_domains ?? []) votes.set(d, (votes.get(d) ?? 0) + 1);
  const best = [...votes.entries()].sort((a, b) => b[1] - a[1])[0];
  if (!best) {
    throw new InvalidBundleError(
      'cannot tell which ATT&CK domain this bundle holds (no matrix, no x_mitre_domains): pass --domain',
    );
  }
  return best[0];
}

/**
 * The import pipeline: bundle bytes → validated objects → a diff against the graph → one write
 * transaction that applies the whole release, so readers see the old release or the new one.
 */
export class ImportService {
  private readonly q = loadQueries(QUERIES);

  constructor(
    private readonly graph: Graph,
    private readonly log: Logger,
    private readonly batchSize = 2_000,
  ) {}

  async importBytes(fetched: FetchedBundle, opts: ImportOptions = {}): Promise<ChangeReport> {
    opts.onProgress?.({ phase: 'parse', done: 0, total: 1 });
    const started = Date.now();
    const parsed = parseBundle(decodeBundleBytes(fetched.bytes), { strict: opts.strict });
    return this.importParsed(parsed, fetched, opts, started);
  }

  async importParsed(
    parsed: ParsedBundle,
    fetched: Omit<FetchedBundle, 'bytes'>,
    opts: ImportOptions = {},
    started = Date.now(),
  ): Promise<ChangeReport> {
    const relationships = opts.relationships ?? true;
    const domain = detectDomain(parsed.objects, opts.domain);
    const issues = [...parsed.issues];
    const dropped = await this.resolveExternalRefs(parsed, issues);
    if (opts.strict) rejectIfErrors(issues);

    const collection = parsed.objects.find((o) => o.type === 'x-mitre-collection');
    const version = collection?.x_mitre_version ?? 'unknown';
    const objects = parsed.objects.filter((o) => !dropped.has(o.id));
    const sdos = objects.filter((o) => o.type !== 'relationship');
    const rels = relationships ? objects.filter((o) => o.type === 'relationship') : [];

    const sameBundle =
      !opts.force && (await this.holdsSameBundle(domain, fetched.sha256, relationships));
    const report = await this.graph.writeTransaction(async (tx) => {
      const plan = sameBundle
        ? unchangedPlan([...sdos, ...rels])
        : await this.plan(tx, domain, sdos, rels, relationships, opts.force === true);
      const appliedAt = new Date().toISOString();
      const report: ChangeReport = {
        domain,
        version,
        attackSpecVersion: collection?.x_mitre_attack_spec_version ?? null,
        bundleId: parsed.id,
        source: fetched.source,
        sha256: fetched.sha256,
        appliedAt,
        durationMs: 0,
        changed: plan.writes > 0,
        force: opts.force === true,
        relationships,
        totals: plan.totals,
        byType: plan.byType,
        objectsInBundle: parsed.totalObjects,
        skipped: new Set(issues.filter((i) => i.severity === 'error').map((i) => i.object)).size,
        warnings: issues.filter((i) => i.severity === 'warning').length,
        issues: issues.slice(0, MAX_REPORTED_ISSUES),
      };
      if (plan.writes > 0) await this.apply(tx, plan, sdos, opts);
      report.durationMs = Date.now() - started;
      await tx.run(this.q['attack/record-import'], {
        domain,
        changed: report.changed,
        report: JSON.stringify(report),
        release: {
          id: `${domain}@${version}`,
          domain,
          version,
          attack_spec_version: report.attackSpecVersion,
          bundle_id: parsed.id,
          sha256: fetched.sha256,
          source: fetched.source,
          applied_at: appliedAt,
          duration_ms: report.durationMs,
        },
      });
      return report;
    });
    this.log.info(
      {
        domain,
        version,
        changed: report.changed,
        totals: report.totals,
        durationMs: report.durationMs,
      },
      'import finished',
    );
    return report;
  }

  /**
   * True when this domain's last import applied these very bytes completely (relationships
   * included, nothing skipped): the diff would find nothing, so it is not computed.
   */
  private async holdsSameBundle(
    domain: string,
    sha256: string,
    relationships: boolean,
  ): Promise<boolean> {
    const [state] = await this.graph.read<{ sha256: string | null; lastReport: string | null }>(
      this.q['attack/read-domain-state'],
      { domain },
    );
    if (!state?.lastReport || state.sha256 !== sha256) return false;
    const last = JSON.parse(state.lastReport) as ChangeReport;
    return last.skipped === 0 && (last.relationships || !relationships);
  }

  /** Relationship endpoints outside the bundle must exist in the graph; the rest are dropped. */
  private async resolveExternalRefs(
    parsed: ParsedBundle,
    issues: BundleIssue[],
  ): Promise<Set<string>> {
    const dropped = new Set<string>();
    if (parsed.externalRefs.size === 0) return dropped;
    const wanted = [...new Set([...parsed.externalRefs.values()].flat())];
    const found = new Set(
      (await this.graph.read<{ id: string }>(this.q['attack/existing-ids'], { ids: wanted })).map(
        (r) => r.id,
      ),
    );
    for (const [relId, refs] of parsed.externalRefs) {
      const missing = refs.filter((r) => !found.has(r));
      if (missing.length === 0) continue;
      dropped.add(relId);
      issues.push({
        severity: 'error',
        object: relId,
        type: 'relationship',
        path: 'source_ref/target_ref',
        message: `refers to ${missing.join(', ')}, found neither in the bundle nor in the graph`,
      });
    }
    return dropped;
  }

  private async plan(
    tx: Tx,
    domain: string,
    sdos: StixObject[],
    rels: StixObject[],
    relationships: boolean,
    force: boolean,
  ): Promise<Plan> {
    // The server reads the current state while this process hashes the bundle.
    const nodeRows = tx.run<NodeState>(this.q['attack/read-node-state']);
    const edgeRows = relationships
      ? tx.run<EdgeState>(this.q['attack/read-edge-state'])
      : Promise.resolve([]);
    const hashes = new Map([...sdos, ...rels].map((o) => [o.id, contentHash(o)]));
    const nodeState = new Map((await nodeRows).map((n) => [n.id, n]));
    const edgeState = new Map((await edgeRows).map((e) => [e.id, e]));

    const totals = emptyCounts();
    const byType: Record<string, ChangeCounts> = {};
    const count = (type: string, cat: ChangeCategory) => {
      totals[cat]++;
      (byType[type] ??= emptyCounts())[cat]++;
    };

    const createNodes: NodeRow[] = [];
    const updateNodes: NodeRow[] = [];
    const nodeSources: Plan['nodeSources'] = [];
    const deleteNodes: string[] = [];
    const createEdges: EdgeRow[] = [];
    const deleteEdges: Array<{ id: string; source: string }> = [];
    const edgeSources: Plan['edgeSources'] = [];

    const classify = (obj: StixObject, prev: ElementState | undefined, hash: string) => {
      const prevHash = prev ? hashFor(prev.sourceHashes, domain) : undefined;
      if (!prev || prevHash === undefined) {
        count(obj.type, 'added');
        return;
      }
      if (prevHash === hash) {
        count(obj.type, 'unchanged');
        return;
      }
      count(obj.type, 'modified');
      if (obj.revoked === true && !prev.revoked) count(obj.type, 'revoked');
      if (obj.x_mitre_deprecated === true && !prev.deprecated) count(obj.type, 'deprecated');
    };

    // An object held by several domains' bundles is one node: the most recently modified copy is
    // its content, and each domain's own hash decides whether that domain's copy changed.
    // A copy this domain already had never overwrites another domain's newer write.
    const contentWins = (prev: ElementState, hash: string, modified: string | undefined) =>
      force ||
      (hash !== prev.hash &&
        hashFor(prev.sourceHashes, domain) !== hash &&
        (prev.sources.every((s) => s === domain) || time(modified) >= time(prev.modified)));

    const seenNodes = new Set<string>();
    for (const obj of sdos) {
      seenNodes.add(obj.id);
      const hash = hashes.get(obj.id) as string;
      const prev = nodeState.get(obj.id);
      classify(obj, prev, hash);
      const row = nodeRow(obj, hash);
      const sources = union(prev?.sources ?? [], [domain]);
      const sourceHashes = withHash(prev?.sourceHashes ?? [], domain, hash);
      const domains = union(prev?.domains ?? [], obj.x_mitre_domains ?? [], [domain]);
      if (!prev) {
        createNodes.push({
          ...row,
          props: { ...row.props, sources, source_hashes: sourceHashes, domains },
        });
      } else if (contentWins(prev, hash, obj.modified)) {
        updateNodes.push({
          ...row,
          props: { ...row.props, sources, source_hashes: sourceHashes, domains },
        });
      } else if (hashFor(prev.sourceHashes, domain) !== hash || !prev.sources.includes(domain)) {
        nodeSources.push({ id: obj.id, sources, sourceHashes, domains });
      }
    }
    for (const prev of nodeState.values()) {
      if (!prev.sources.includes(domain) || seenNodes.has(prev.id)) continue;
      count(prev.type, 'removed');
      const sources = prev.sources.filter((s) => s !== domain);
      if (sources.length === 0) deleteNodes.push(prev.id);
      else
        nodeSources.push({
          id: prev.id,
          sources,
          sourceHashes: withHash(prev.sourceHashes, domain, null),
          domains: prev.domains.filter((d) => d !== domain),
        });
    }

    const seenEdges = new Set<string>();
    for (const rel of rels) {
      seenEdges.add(rel.id);
      const hash = hashes.get(rel.id) as string;
      const prev = edgeState.get(rel.id);
      classify(rel, prev, hash);
      const row = edgeRow(rel, hash);
      const sources = union(prev?.sources ?? [], [domain]);
      const sourceHashes = withHash(prev?.sourceHashes ?? [], domain, hash);
      const full = { ...row, props: { ...row.props, sources, source_hashes: sourceHashes } };
      if (!prev) {
        createEdges.push(full);
      } else if (contentWins(prev, hash, rel.modified as string | undefined)) {
        // Endpoints or type may have changed: an edge is replaced, never patched.
        deleteEdges.push({ id: rel.id, source: prev.source });
        createEdges.push(full);
      } else if (hashFor(prev.sourceHashes, domain) !== hash || !prev.sources.includes(domain)) {
        edgeSources.push({ id: rel.id, source: prev.source, sources, sourceHashes });
      }
    }
    if (relationships) {
      for (const prev of edgeState.values()) {
        if (!prev.sources.includes(domain) || seenEdges.has(prev.id)) continue;
        count('relationship', 'removed');
        const sources = prev.sources.filter((s) => s !== domain);
        if (sources.length === 0) deleteEdges.push({ id: prev.id, source: prev.source });
        else
          edgeSources.push({
            id: prev.id,
            source: prev.source,
            sources,
            sourceHashes: withHash(prev.sourceHashes, domain, null),
          });
      }
    }

    const writes =
      createNodes.length +
      updateNodes.length +
      nodeSources.length +
      deleteNodes.length +
      createEdges.length +
      deleteEdges.length +
      edgeSources.length;
    return {
      totals,
      byType,
      writes,
      createNodes,
      updateNodes,
      nodeSources,
      deleteNodes,
      createEdges,
      deleteEdges,
      edgeSources,
    };
  }

  private async apply(tx: Tx, plan: Plan, sdos: StixObject[], opts: ImportOptions): Promise<void> {
    const derived = sdos.map(derivedEdges);
    const derivedEdgeRows = derived.flatMap((d) => d.edges);
    const tacticRows = derived.flatMap((d) => d.tactics);
    const steps: Array<[string, string, unknown[], string]> = [
      // Edges go before the nodes they may hang from are deleted, derived edges after all nodes.
      ['delete relationships', this.q['attack/delete-edges'], plan.deleteEdges, 'rows'],
      ['delete objects', this.q['attack/delete-nodes'], plan.deleteNodes, 'ids'],
      ['create objects', this.q['attack/create-nodes'], plan.createNodes, 'rows'],
      ['update objects', this.q['attack/update-nodes'], plan.updateNodes, 'rows'],
      ['update object sources', this.q['attack/set-node-sources'], plan.nodeSources, 'rows'],
      ['create relationships', this.q['attack/create-edges'], plan.createEdges, 'rows'],
      ['update relationship sources', this.q['attack/set-edge-sources'], plan.edgeSources, 'rows'],
      ['clear derived edges', this.q['attack/delete-derived-edges'], sdos.map((o) => o.id), 'ids'],
      ['derive edges', this.q['attack/create-derived-edges'], derivedEdgeRows, 'rows'],
      ['link techniques to tactics', this.q['attack/link-tactics'], tacticRows, 'rows'],
    ];
    const total = steps.reduce((n, s) => n + s[2].length, 0);
    let done = 0;
    for (const [phase, query, items, param] of steps) {
      for (let i = 0; i < items.length; i += this.batchSize) {
        const batch = items.slice(i, i + this.batchSize);
        await tx.run(query, { [param]: batch });
        done += batch.length;
        opts.onProgress?.({ phase, done, total });
      }
    }
  }
}
