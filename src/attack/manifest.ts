import { wholeObject } from './bundle';
import type { EdgeEnds } from './diff';
import type { StixObject } from './stix-schema';

/**
 * A domain's manifest: the hash of its copy of every object and relationship it holds (and each
 * relationship's ends). Written with each release in the same transaction, it lets an update read
 * from the graph only the elements whose hash moved, instead of the whole domain (27,000 edges for
 * Enterprise). When a domain has none (a graph written before manifests) or an import is forced,
 * every manifest is rebuilt from the graph's `source_hashes`, which stay the truth.
 */
export interface Entry {
  /** sha256 of the canonical JSON (what the graph's `source_hashes` hold). */
  hash: string;
  /**
   * sha1 of the object's bytes as they came in its bundle: the same bytes again are the same
   * object without parsing or canonicalising it, which is most of an update's parse time. Empty
   * when unknown (rebuilt).
   */
  raw: string;
  /**
   * An object's reference fields that the parse checks against the rest of the bundle (see
   * REF_FIELDS in bundle.ts), kept so that an object held byte for byte need not be parsed.
   */
  refs?: Record<string, unknown>;
}

export interface EdgeEntry extends Entry {
  source: string;
  target: string;
}

export interface DomainManifest {
  nodes: Map<string, Entry>;
  edges: Map<string, EdgeEntry>;
}

/** One element as the rebuild reads it: its domains' hashes, and a relationship's ends. */
export interface ElementRow {
  id: string;
  source: string | null;
  target: string | null;
  sourceHashes: string[];
}

// Bumped when the encoding or a hash's meaning changes: a manifest of another format is rebuilt,
// never misread. Format 2 was gzip in base64 (compressing cost an update 100 ms of its 2 s to
// save 2.5 MB); format 3's raw hashes were of the parsed object serialised again.
const FORMAT = 4;

export function emptyManifest(): DomainManifest {
  return { nodes: new Map(), edges: new Map() };
}

/**
 * Stored as JSON text: the driver reads a byte-array property as a JS array one number at a time
 * (20 s for 2 MB), a string in milliseconds.
 */
export function encodeManifest(m: DomainManifest): string {
  const nodes = [...m.nodes].map(([id, e]) =>
    e.refs ? [id, e.hash, e.raw, e.refs] : [id, e.hash, e.raw],
  );
  const edges = [...m.edges].map(([id, e]) => [id, e.hash, e.raw, e.source, e.target]);
  return JSON.stringify({ format: FORMAT, nodes, edges });
}

/** The stored manifest, or null when it is absent, unreadable or of another format. */
export function decodeManifest(text: string | null | undefined): DomainManifest | null {
  if (!text) return null;
  try {
    const doc = JSON.parse(text) as {
      format?: number;
      nodes: Array<[string, string, string, Record<string, unknown>?]>;
      edges: Array<[string, string, string, string, string]>;
    };
    if (doc.format !== FORMAT) return null;
    return {
      nodes: new Map(
        doc.nodes.map(([id, hash, raw, refs]) => [id, refs ? { hash, raw, refs } : { hash, raw }]),
      ),
      edges: new Map(
        doc.edges.map(([id, hash, raw, source, target]) => [id, { hash, raw, source, target }]),
      ),
    };
  } catch {
    return null;
  }
}

/** Every domain's manifest, from the `domain=hash` entries each element carries. */
export function manifestsFromElements(rows: ElementRow[]): Map<string, DomainManifest> {
  const out = new Map<string, DomainManifest>();
  for (const row of rows) {
    for (const entry of row.sourceHashes) {
      const at = entry.indexOf('=');
      const domain = entry.slice(0, at);
      const hash = entry.slice(at + 1);
      let m = out.get(domain);
      if (!m) out.set(domain, (m = emptyManifest()));
      if (row.source !== null && row.target !== null) {
        m.edges.set(row.id, { hash, raw: '', source: row.source, target: row.target });
      } else {
        m.nodes.set(row.id, { hash, raw: '' });
      }
    }
  }
  return out;
}

/**
 * The domain's manifest after this release: every object it applied, minus the ones its bundle
 * no longer has. Objects left out as invalid keep their entry, as they keep their graph content.
 */
export function nextManifest(
  before: DomainManifest,
  applied: { sdos: StixObject[]; rels: StixObject[] | null },
  entryOf: (id: string) => Entry,
  invalid: Set<string>,
): DomainManifest {
  const next = emptyManifest();
  const keep = <V>(from: Map<string, V>, to: Map<string, V>) => {
    for (const id of invalid) {
      const v = from.get(id);
      if (v !== undefined) to.set(id, v);
    }
  };
  keep(before.nodes, next.nodes);
  for (const o of applied.sdos) next.nodes.set(o.id, entryOf(o.id));
  if (applied.rels === null) {
    // An import without relationships leaves the domain's edges as they were.
    for (const [id, e] of before.edges) next.edges.set(id, e);
  } else {
    keep(before.edges, next.edges);
    for (const r of applied.rels) {
      next.edges.set(r.id, {
        ...entryOf(r.id),
        source: r.source_ref as string,
        target: r.target_ref as string,
      });
    }
  }
  return next;
}

/** An element some domain holds, found by the hash of its bytes (a relationship with its ends). */
export type HeldElement = (Entry | EdgeEntry) & { id: string };

/**
 * What the domains hold, for the parse. By the hash of its bytes: an element held byte for byte
 * (its canonical hash known, not parsed). By id: the copies held, whose canonical hash matching
 * means the same content in other bytes. Either way the object was validated when it was written.
 */
export interface HeldCopies {
  byId(id: string): Entry[];
  byRaw(raw: string): HeldElement | undefined;
}

export function heldCopies(manifests: ReadonlyMap<string, DomainManifest>): HeldCopies {
  const all = [...manifests.values()];
  const byRaw = new Map<string, HeldElement>();
  for (const m of all) {
    for (const [id, e] of m.nodes) if (e.raw) byRaw.set(e.raw, { id, ...e });
    for (const [id, e] of m.edges) if (e.raw) byRaw.set(e.raw, { id, ...e });
  }
  return {
    byId: (id) => {
      const out: Entry[] = [];
      for (const m of all) {
        const e = m.nodes.get(id) ?? m.edges.get(id);
        if (e) out.push(e);
      }
      return out;
    },
    byRaw: (raw) => byRaw.get(raw),
  };
}

/** What an update must look at: the bundle's elements whose hash moved, and what to read of them. */
export interface DiffScope {
  /** The bundle's objects and relationships whose hash moved for this domain (all when forced). */
  sdos: StixObject[];
  rels: StixObject[];
  unchanged: StixObject[];
  /** Graph nodes to read: changed objects some domain holds, and the domain's removals. */
  nodeIds: string[];
  /** Graph edges to read, with every pair of ends known for them (ends can change). */
  edgeRows: EdgeEnds[];
}

export function scopeDiff(args: {
  domain: string;
  manifests: ReadonlyMap<string, DomainManifest>;
  sdos: StixObject[];
  /** Null when relationships are not imported. */
  rels: StixObject[] | null;
  hashOf: (id: string) => string;
  force: boolean;
  invalid: Set<string>;
}): DiffScope {
  const { manifests, hashOf, force } = args;
  const own = manifests.get(args.domain) ?? emptyManifest();
  const all = [...manifests.values()];
  const scope: DiffScope = { sdos: [], rels: [], unchanged: [], nodeIds: [], edgeRows: [] };
  // What is planned is read whole (see wholeObject); the rest is counted by its type.
  for (const o of args.sdos) {
    if (force || own.nodes.get(o.id)?.hash !== hashOf(o.id)) scope.sdos.push(wholeObject(o));
    else scope.unchanged.push(o);
  }
  for (const r of args.rels ?? []) {
    if (force || own.edges.get(r.id)?.hash !== hashOf(r.id)) scope.rels.push(wholeObject(r));
    else scope.unchanged.push(r);
  }
  const inBundle = new Set([...args.sdos, ...(args.rels ?? [])].map((o) => o.id));
  for (const id of args.invalid) inBundle.add(id);

  const nodeIds = new Set(
    scope.sdos.filter((o) => all.some((m) => m.nodes.has(o.id))).map((o) => o.id),
  );
  for (const id of own.nodes.keys()) if (!inBundle.has(id)) nodeIds.add(id);
  scope.nodeIds = [...nodeIds];

  const edgeRows = new Map<string, EdgeEnds>();
  const addKnownEnds = (id: string, bundled?: Omit<EdgeEnds, 'id'>) => {
    const known = all.map((m) => m.edges.get(id)).filter((e) => e !== undefined);
    if (known.length === 0) return;
    for (const e of bundled ? [...known, bundled] : known) {
      edgeRows.set(`${id} ${e.source} ${e.target}`, { id, source: e.source, target: e.target });
    }
  };
  for (const r of scope.rels) {
    addKnownEnds(r.id, { source: r.source_ref as string, target: r.target_ref as string });
  }
  if (args.rels !== null)
    for (const id of own.edges.keys()) if (!inBundle.has(id)) addKnownEnds(id);
  scope.edgeRows = [...edgeRows.values()];
  return scope;
}
