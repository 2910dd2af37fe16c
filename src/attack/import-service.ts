import { loadQueries, type QuerySet } from '../shared/cypher';
import { ConflictError, InvalidBundleError, OlderReleaseError } from '../shared/errors';
import { Lease, SYNC_LEASE } from '../sync/lease';
import type { Logger } from '../shared/logger';
import type { Graph, Tx } from '../shared/neo4j';
import { compareVersions } from './versions';
import {
  IssueLog,
  parseBundle,
  rejectIfErrors,
  wholeObject,
  type BundleIssue,
  type ParsedBundle,
} from './bundle';
import type { FetchedBundle } from './bundle-source';
import {
  CHANGELOG_CATEGORIES,
  ChangeCounter,
  type ChangelogCategory,
  type ChangelogEntry,
  planEdgeRemovals,
  planEdges,
  planNodeRemovals,
  planNodes,
  writesIn,
  type DiffContext,
  type EdgePlan,
  type NodePlan,
  type ChangeCounts,
  type EdgeState,
  type NodeState,
} from './diff';
import {
  decodeManifest,
  emptyManifest,
  encodeManifest,
  heldCopies,
  manifestsFromElements,
  nextManifest,
  scopeDiff,
  type DomainManifest,
  type ElementRow,
  type Entry,
} from './manifest';
import { derivedEdges } from './model';
import type { StixObject } from './stix-schema';

const QUERIES = [
  'sync/lease-check',
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
  'attack/delete-tactic-links',
  'attack/create-derived-edges',
  'attack/link-tactics',
  'attack/record-import',
  'attack/read-domains',
  'attack/read-elements',
  'attack/write-manifests',
] as const;

/** A domain as the importer reads it before parsing. */
interface DomainRow {
  name: string;
  version: string | null;
  sha256: string | null;
  lastReport: string | null;
  manifest: string | null;
}

export interface ChangeReport {
  domain: string;
  version: string;
  attackSpecVersion: string | null;
  bundleId: string;
  source: string;
  sha256: string;
  appliedAt: string;
  durationMs: number;
  /**
   * False when nothing was written: the same bundle again, or a bundle whose every difference was
   * set aside as invalid (see issues).
   */
  changed: boolean;
  /**
   * The domain's last import applied these very bytes (with the same relationships choice): the
   * release was already held and nothing was compared. A sync that fetched what another replica
   * had just applied reads it as unchanged.
   */
  sameBundle: boolean;
  force: boolean;
  relationships: boolean;
  totals: ChangeCounts;
  byType: Record<string, ChangeCounts>;
  /** The release record this import made (null when nothing changed). */
  releaseId: string | null;
  /** The changelog's totals (MITRE's release-note categories), overall and per type. */
  changelog: {
    totals: Record<ChangelogCategory, number>;
    byType: Record<string, Partial<Record<ChangelogCategory, number>>>;
  };
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
  /** Largest bundle accepted once decompressed (TTPGRAPH_MAX_BUNDLE_BYTES). */
  maxBytes?: number;
  /**
   * The one older version this import may put in place of a newer one (an operator's explicit
   * downgrade). Without it a bundle older than the domain holds is refused.
   */
  downgradeTo?: string;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
  /** Told which domain and version the bundle holds, as soon as that is known. */
  onRelease?: (r: { domain: string; version: string }) => void;
  /**
   * The sync lease the caller holds (SyncService). Without it the import takes the lease itself
   * for its duration: a release is never written by one who does not hold it.
   */
  holder?: string;
}

const MAX_REPORTED_ISSUES = 200;

type Progress = NonNullable<ImportOptions['onProgress']>;

/**
 * Sends batched statements into one transaction without waiting for each: Bolt runs them in order,
 * and the server executes one batch while this process prepares the next.
 */
class BatchWriter {
  private readonly pending: Array<Promise<void>> = [];
  private done = 0;
  private total = 0;

  constructor(
    private readonly tx: Tx,
    private readonly batchSize: number,
    private readonly onProgress?: Progress,
  ) {}

  send(phase: string, query: string, items: unknown[], param: 'rows' | 'ids' = 'rows'): void {
    this.total += items.length;
    for (let i = 0; i < items.length; i += this.batchSize) {
      const batch = items.slice(i, i + this.batchSize);
      const sent = this.tx.run(query, { [param]: batch }).then(() => {
        this.done += batch.length;
        this.onProgress?.({ phase, done: this.done, total: this.total });
      });
      // Handled now, reported by flush: a lost connection fails every batch in flight, and
      // none of those failures may surface as an unhandled rejection.
      sent.catch(() => undefined);
      this.pending.push(sent);
    }
  }

  async flush(): Promise<void> {
    const failed = (await Promise.allSettled(this.pending)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function changelogTotals(entries: ChangelogEntry[]): ChangeReport['changelog'] {
  const totals = Object.fromEntries(CHANGELOG_CATEGORIES.map((c) => [c, 0])) as Record<
    ChangelogCategory,
    number
  >;
  const byType: ChangeReport['changelog']['byType'] = {};
  for (const e of entries) {
    totals[e.category]++;
    const t = (byType[e.type] ??= {});
    t[e.category] = (t[e.category] ?? 0) + 1;
  }
  return { totals, byType };
}

/** A bundle the domain already holds byte for byte: every object counts as unchanged. */
function countAllUnchanged(counter: ChangeCounter, objects: StixObject[]): void {
  for (const o of objects) counter.add(o.type, 'unchanged');
}

/** Every domain's stored manifest, or null when one is missing or unreadable (then rebuilt). */
function storedManifests(domains: DomainRow[]): Map<string, DomainManifest> | null {
  const out = new Map<string, DomainManifest>();
  for (const d of domains) {
    const m = decodeManifest(d.manifest);
    if (!m) return null;
    out.set(d.name, m);
  }
  return out;
}

/**
 * True when this domain's last import applied these very bytes completely (relationships
 * included, nothing skipped): the diff would find nothing, so it is not computed.
 */
function holdsSameBundle(
  domain: DomainRow | undefined,
  sha256: string,
  relationships: boolean,
): boolean {
  if (!domain?.lastReport || domain.sha256 !== sha256) return false;
  const last = JSON.parse(domain.lastReport) as ChangeReport;
  return last.skipped === 0 && (last.relationships || !relationships);
}

/** Which ATT&CK domain a bundle holds: the caller's word, else its active matrix, else its objects. */
export function detectDomain(objects: StixObject[], explicit?: string): string {
  if (explicit) return explicit;
  const matrix = objects
    .filter((o) => o.type === 'x-mitre-matrix')
    .map(wholeObject)
    .find((o) => !o.x_mitre_deprecated && !o.revoked);
  const fromMatrix = matrix?.external_references?.find((r) => r.external_id)?.external_id;
  if (fromMatrix) return fromMatrix;
  // Objects vote, not relationships (ATT&CK's carry no domains; see wholeObject).
  const votes = new Map<string, number>();
  for (const o of objects) {
    if (o.type === 'relationship') continue;
    for (const d of wholeObject(o).x_mitre_domains ?? []) votes.set(d, (votes.get(d) ?? 0) + 1);
  }
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
    /** Runs after a release changed the graph (the mappings' revocation remap). */
    private readonly afterChange?: () => Promise<unknown>,
    leaseMs = 120_000,
  ) {
    this.lease = new Lease(graph, log, leaseMs);
  }

  private readonly lease: Lease;

  async importBytes(fetched: FetchedBundle, opts: ImportOptions = {}): Promise<ChangeReport> {
    if (opts.holder) return this.importHeld(fetched, { ...opts, holder: opts.holder });
    const owner = Lease.owner('import');
    const lease = await this.lease.acquire(owner);
    if (!lease.acquired) {
      throw new ConflictError(
        `another sync holds the lease (${lease.owner}, until ${lease.expiresAt}): try again once it is done`,
      );
    }
    try {
      return await this.importHeld(fetched, { ...opts, holder: owner });
    } finally {
      await lease.held.release();
    }
  }

  /**
   * The post-release step (the mappings' remap), idempotent. The release's transaction marked its
   * domain remap_pending, the step clears the mark: a failure here leaves it for the next sync.
   */
  async finishRelease(): Promise<void> {
    if (!this.afterChange) return;
    await this.afterChange().catch((err: unknown) =>
      this.log.error(
        { err: (err as Error).message },
        'the remap of mappings after a release failed: the next sync retries it',
      ),
    );
  }

  private async importHeld(
    fetched: FetchedBundle,
    opts: ImportOptions & { holder: string },
  ): Promise<ChangeReport> {
    opts.onProgress?.({ phase: 'parse', done: 0, total: 1 });
    const started = Date.now();
    const domains = await this.graph.read<DomainRow>(this.q['attack/read-domains']);
    // A forced import rebuilds the manifests, and validates every object again.
    const stored = opts.force ? null : storedManifests(domains);
    const parsed = parseBundle(fetched.bytes, {
      strict: opts.strict,
      maxBytes: opts.maxBytes,
      held: stored ? heldCopies(stored) : undefined,
    });
    this.log.debug({ phase: 'parsed', ms: Date.now() - started }, 'import phase');
    return this.importParsed(parsed, fetched, opts, started, domains, stored);
  }

  /** validate → write (one transaction, under the lease) → remap. */
  private async importParsed(
    parsed: ParsedBundle,
    fetched: Omit<FetchedBundle, 'bytes'>,
    opts: ImportOptions & { holder: string },
    started: number,
    domains: DomainRow[],
    stored: Map<string, DomainManifest> | null,
  ): Promise<ChangeReport> {
    const release = await this.validate({ parsed, fetched, opts, domains, stored });
    const report = await this.graph.writeTransaction(async (tx) => {
      await this.checkLease(tx, opts.holder, release.domain);
      const counter = new ChangeCounter();
      let writes = 0;
      if (release.sameBundle)
        countAllUnchanged(counter, [...release.sdos, ...(release.rels ?? [])]);
      else
        writes = await new ReleaseWrite(
          tx,
          this.q,
          this.batchSize,
          opts.onProgress,
          this.log,
        ).apply(release, counter);
      const report = buildReport(release, counter, writes, started);
      const [recorded] = await tx.run<{ releaseId: string | null }>(
        this.q['attack/record-import'],
        recordParams(report, counter, parsed.id),
      );
      report.releaseId = recorded?.releaseId ?? null;
      return report;
    });
    // The release is committed; a failed remap is retried by every sync until it succeeds.
    if (report.changed) await this.finishRelease();
    this.log.info(
      {
        domain: report.domain,
        version: report.version,
        changed: report.changed,
        totals: report.totals,
        durationMs: report.durationMs,
      },
      'import finished',
    );
    return report;
  }

  /**
   * What the bundle holds for which domain, checked before anything is written: its objects
   * (those with unresolvable references dropped), strict-mode errors, an older release refused.
   */
  private async validate(input: {
    parsed: ParsedBundle;
    fetched: Omit<FetchedBundle, 'bytes'>;
    opts: ImportOptions;
    domains: DomainRow[];
    stored: Map<string, DomainManifest> | null;
  }): Promise<ValidatedRelease> {
    const { parsed, fetched, opts, domains } = input;
    const relationships = opts.relationships ?? true;
    const domain = detectDomain(parsed.objects, opts.domain);
    const log = new IssueLog([...parsed.issues], parsed.warningCount);
    const dropped = await this.resolveExternalRefs(parsed, log);
    const issues = log.issues;
    if (opts.strict) rejectIfErrors(issues);

    const held = parsed.objects.find((o) => o.type === 'x-mitre-collection');
    const collection = held && wholeObject(held);
    const version = collection?.x_mitre_version ?? 'unknown';
    opts.onRelease?.({ domain, version });
    const current = domains.find((d) => d.name === domain);
    if (
      current?.version &&
      version !== 'unknown' &&
      compareVersions(version, current.version) < 0
    ) {
      if (opts.downgradeTo !== version) {
        throw new OlderReleaseError(
          `${domain} holds ${current.version}: ${version} is older and is not applied (an operator can go back with import-mitre --force --downgrade-to ${version})`,
          { held: current.version, offered: version },
        );
      }
      this.log.warn(
        { domain, from: current.version, to: version },
        'downgrading a domain on request',
      );
    }
    const objects = parsed.objects.filter((o) => !dropped.has(o.id));
    const force = opts.force === true;
    return {
      parsed,
      fetched,
      domain,
      version,
      attackSpecVersion: collection?.x_mitre_attack_spec_version ?? null,
      force,
      relationships,
      issues,
      // Objects left out as invalid keep what the graph has: never deleted by a bad copy.
      invalid: log.invalid,
      sdos: objects.filter((o) => o.type !== 'relationship'),
      rels: relationships ? objects.filter((o) => o.type === 'relationship') : null,
      stored: input.stored,
      sameBundle: !force && holdsSameBundle(current, fetched.sha256, relationships),
    };
  }

  /** Inside the release's transaction: the writer must still hold the lease (see lease-check). */
  private async checkLease(tx: Tx, holder: string, domain: string): Promise<void> {
    const [holding] = await tx.run(this.q['sync/lease-check'], { name: SYNC_LEASE, owner: holder });
    if (!holding) {
      throw new ConflictError(
        `the sync lease is no longer held by ${holder}: the release of ${domain} is not written`,
      );
    }
  }

  /** Relationship endpoints outside the bundle must exist in the graph; the rest are dropped. */
  private async resolveExternalRefs(parsed: ParsedBundle, log: IssueLog): Promise<Set<string>> {
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
      log.add({
        severity: 'error',
        object: relId,
        type: 'relationship',
        path: 'source_ref/target_ref',
        message: `refers to ${missing.join(', ')}, found neither in the bundle nor in the graph`,
      });
    }
    return dropped;
  }
}

/** A bundle checked for one domain (ImportService.validate): everything the write stage needs. */
interface ValidatedRelease {
  parsed: ParsedBundle;
  fetched: Omit<FetchedBundle, 'bytes'>;
  domain: string;
  version: string;
  attackSpecVersion: string | null;
  force: boolean;
  relationships: boolean;
  issues: BundleIssue[];
  /** Ids of objects left out as invalid. */
  invalid: Set<string>;
  sdos: StixObject[];
  /** Null when relationships are not imported (those in the graph are kept). */
  rels: StixObject[] | null;
  /** Every domain's stored manifest; null to rebuild them from the graph. */
  stored: Map<string, DomainManifest> | null;
  /** The domain's last import applied these very bytes: nothing to diff. */
  sameBundle: boolean;
}

function buildReport(
  release: ValidatedRelease,
  counter: ChangeCounter,
  writes: number,
  started: number,
): ChangeReport {
  const { parsed, fetched, issues } = release;
  return {
    domain: release.domain,
    version: release.version,
    attackSpecVersion: release.attackSpecVersion,
    bundleId: parsed.id,
    source: fetched.source,
    sha256: fetched.sha256,
    appliedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    changed: writes > 0,
    sameBundle: release.sameBundle,
    force: release.force,
    relationships: release.relationships,
    totals: counter.totals,
    byType: counter.byType,
    releaseId: null,
    changelog: changelogTotals(counter.changelog),
    objectsInBundle: parsed.totalObjects,
    skipped: release.invalid.size,
    warnings: parsed.warningCount,
    issues: issues.slice(0, MAX_REPORTED_ISSUES),
  };
}

/** The parameters of attack/record-import: the report, its changelog and the release record. */
function recordParams(report: ChangeReport, counter: ChangeCounter, bundleId: string) {
  return {
    domain: report.domain,
    changed: report.changed,
    report: JSON.stringify(report),
    changes: counter.changelog,
    releaseId: `${report.domain}@${report.version}`,
    release: {
      domain: report.domain,
      version: report.version,
      attack_spec_version: report.attackSpecVersion,
      bundle_id: bundleId,
      sha256: report.sha256,
      source: report.source,
      applied_at: report.appliedAt,
      duration_ms: report.durationMs,
    },
  };
}

/**
 * One release's diff and writes, inside `tx`: only the elements whose hash moved for this domain
 * (by its manifest) are read from the graph and planned; node writes are on their way to the
 * server while the relationships are planned. It keeps what the derived edges and the manifests
 * need to know of what was written.
 */
class ReleaseWrite {
  private readonly writer: BatchWriter;
  private writes = 0;
  private readonly created = new Set<string>();
  private readonly rewritten = new Set<string>();
  private tactics = new Set<string>();
  private tacticsChanged = false;

  constructor(
    private readonly tx: Tx,
    private readonly q: QuerySet<(typeof QUERIES)[number]>,
    private readonly batchSize: number,
    onProgress: Progress | undefined,
    private readonly log: Logger,
  ) {
    this.writer = new BatchWriter(tx, batchSize, onProgress);
  }

  /** Plans and sends every write; the number of element writes (0: the graph held it all). */
  async apply(release: ValidatedRelease, counter: ChangeCounter): Promise<number> {
    const { tx, q } = this;
    const { sdos, rels, stored } = release;
    const ctx: DiffContext & { invalid: Set<string> } = {
      domain: release.domain,
      force: release.force,
      counter,
      canonical: release.parsed.canonical,
      invalid: release.invalid,
    };
    const manifests =
      stored ?? manifestsFromElements(await tx.run<ElementRow>(q['attack/read-elements']));
    const entryOf = (id: string) => release.parsed.hashes.get(id) as Entry;
    const scope = scopeDiff({ ...ctx, manifests, sdos, rels, hashOf: (id) => entryOf(id).hash });
    for (const o of scope.unchanged) counter.add(o.type, 'unchanged');
    const nodeRows = tx.run<NodeState>(q['attack/read-node-state'], { ids: scope.nodeIds });
    const edgeRows = tx.run<EdgeState>(q['attack/read-edge-state'], { rows: scope.edgeRows });
    // Awaited in turn: marked handled so that one failing while the other is awaited is not unhandled.
    edgeRows.catch(() => undefined);

    // The bundle is diffed a batch at a time, each batch sent as soon as it is planned.
    const nodeState = new Map((await nodeRows).map((n) => [n.id, n]));
    this.tactics = new Set(sdos.filter((o) => o.type === 'x-mitre-tactic').map((o) => o.id));
    for (const n of nodeState.values()) if (n.type === 'x-mitre-tactic') this.tactics.add(n.id);
    for (const chunk of chunks(scope.sdos, this.batchSize)) {
      this.sendNodes(planNodes(ctx, chunk, nodeState));
    }
    this.sendNodes(
      planNodeRemovals(ctx, nodeState, new Set([...sdos.map((o) => o.id), ...ctx.invalid])),
    );
    this.log.debug({ phase: 'objects diffed' }, 'import phase');

    const edgeState = new Map((await edgeRows).map((e) => [e.id, e]));
    for (const chunk of chunks(scope.rels, this.batchSize)) {
      this.sendEdges(planEdges(ctx, chunk, edgeState));
    }
    if (rels !== null) {
      this.sendEdges(
        planEdgeRemovals(ctx, edgeState, new Set([...rels.map((o) => o.id), ...ctx.invalid])),
      );
    }
    this.log.debug({ phase: 'relationships diffed' }, 'import phase');

    if (this.writes > 0) this.sendDerived(sdos);
    if (this.writes > 0 || stored === null) {
      const own = nextManifest(
        manifests.get(release.domain) ?? emptyManifest(),
        { sdos, rels },
        entryOf,
        ctx.invalid,
      );
      // Rebuilt manifests are written for every domain, else only this one's.
      const written =
        stored === null
          ? new Map([...manifests, [release.domain, own]])
          : new Map([[release.domain, own]]);
      this.writer.send(
        'record manifests',
        q['attack/write-manifests'],
        [...written].map(([domain, m]) => ({ domain, text: encodeManifest(m) })),
      );
    }
    this.log.debug({ phase: 'all sent' }, 'import phase');
    await this.writer.flush();
    this.log.debug({ phase: 'all written' }, 'import phase');
    return this.writes;
  }

  private sendNodes(plan: NodePlan): void {
    const { q, writer } = this;
    this.writes += writesIn(plan);
    plan.create.forEach((n) => this.created.add(n.id));
    [...plan.create, ...plan.update].forEach((n) => this.rewritten.add(n.id));
    this.tacticsChanged ||= [...plan.create, ...plan.update, ...plan.setSources]
      .map((n) => n.id)
      .concat(plan.remove)
      .some((id) => this.tactics.has(id));
    writer.send('delete objects', q['attack/delete-nodes'], plan.remove, 'ids');
    writer.send('create objects', q['attack/create-nodes'], plan.create);
    writer.send('update objects', q['attack/update-nodes'], plan.update);
    writer.send('update object sources', q['attack/set-node-sources'], plan.setSources);
  }

  private sendEdges(plan: EdgePlan): void {
    const { q, writer } = this;
    this.writes += writesIn(plan);
    writer.send('delete relationships', q['attack/delete-edges'], plan.remove);
    writer.send('create relationships', q['attack/create-edges'], plan.create);
    writer.send('update relationship sources', q['attack/set-edge-sources'], plan.setSources);
  }

  /**
   * Derived edges are rebuilt for the objects written now, and for those that point at an object
   * created now (a reference that had no target before). Technique → tactic links are redone for
   * every technique when a tactic changed (the active twin may differ).
   */
  private sendDerived(sdos: StixObject[]): void {
    const { q, writer, created, rewritten } = this;
    // Objects unchanged are read whole only when a new object may be their target, or when their
    // tactics are relinked (see wholeObject).
    const seen = new Map<StixObject, ReturnType<typeof derivedEdges>>();
    const derived = (o: StixObject) => {
      let d = seen.get(o);
      if (!d) seen.set(o, (d = derivedEdges(wholeObject(o))));
      return d;
    };
    const rebuild = sdos.filter(
      (o) =>
        rewritten.has(o.id) ||
        (created.size > 0 && derived(o).edges.some((e) => created.has(e.to))),
    );
    const rebuilt = new Set(rebuild);
    const relink = this.tacticsChanged
      ? sdos.filter((o) => o.type === 'attack-pattern' && !rebuilt.has(o))
      : [];
    const existing = rebuild.filter((o) => !created.has(o.id)).map((o) => o.id);
    const rebuiltEdges = rebuild.map(derived);
    writer.send('clear derived edges', q['attack/delete-derived-edges'], existing, 'ids');
    writer.send(
      'clear tactic links',
      q['attack/delete-tactic-links'],
      relink.map((o) => o.id),
      'ids',
    );
    writer.send(
      'derive edges',
      q['attack/create-derived-edges'],
      rebuiltEdges.flatMap((d) => d.edges),
    );
    writer.send('link techniques to tactics', q['attack/link-tactics'], [
      ...rebuiltEdges.flatMap((d) => d.tactics),
      ...relink.flatMap((o) => derived(o).tactics),
    ]);
  }
}
