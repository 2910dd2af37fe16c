import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { parseBundle, wholeObject } from '../../src/attack/bundle';
import {
  decodeManifest,
  emptyManifest,
  encodeManifest,
  heldCopies,
  manifestsFromElements,
  nextManifest,
  scopeDiff,
  type DomainManifest,
  type EdgeEntry,
  type Entry,
} from '../../src/attack/manifest';
import { contentHash } from '../../src/attack/model';
import type { StixObject } from '../../src/attack/stix-schema';

const ID = (type: string, n: number) =>
  `${type}--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const T = '2025-01-01T00:00:00.000Z';
const tech = (n: number) =>
  ({ type: 'attack-pattern', id: ID('attack-pattern', n), created: T, modified: T }) as StixObject;
const rel = (n: number, from: number, to: number) =>
  ({
    type: 'relationship',
    id: ID('relationship', n),
    created: T,
    modified: T,
    relationship_type: 'uses',
    source_ref: ID('attack-pattern', from),
    target_ref: ID('attack-pattern', to),
  }) as StixObject;

/** A manifest holding these objects with the hashes given (default: `h<id>`). */
function manifest(objects: StixObject[], hash = (o: StixObject) => `h${o.id}`): DomainManifest {
  const m = emptyManifest();
  for (const o of objects) {
    if (o.type === 'relationship') {
      m.edges.set(o.id, {
        hash: hash(o),
        raw: `r${o.id}`,
        source: o.source_ref as string,
        target: o.target_ref as string,
      });
    } else {
      m.nodes.set(o.id, { hash: hash(o), raw: `r${o.id}` });
    }
  }
  return m;
}

describe('manifest encoding', () => {
  it('round-trips nodes with their reference fields, and edges with their ends', () => {
    const m = manifest([tech(1), tech(2), rel(1, 1, 2)]);
    m.nodes.set(ID('x-mitre-matrix', 1), {
      hash: 'h',
      raw: 'r',
      refs: { tactic_refs: [ID('x-mitre-tactic', 1)] },
    });
    expect(decodeManifest(encodeManifest(m))).toStrictEqual(m);
  });

  it('reads an absent, unreadable or other-format manifest as none (it is then rebuilt)', () => {
    expect(decodeManifest(null)).toBeNull();
    expect(decodeManifest('not json')).toBeNull();
    expect(decodeManifest('{"format": 99, "nodes": [], "edges": []}')).toBeNull();
    // Format 2 (gzip in base64, before the update path dropped the compression) is rebuilt.
    const format2 = gzipSync('{"format": 2, "nodes": [], "edges": []}').toString('base64');
    expect(decodeManifest(format2)).toBeNull();
    // Format 3's raw hashes were of the object serialised again, not of its bytes.
    expect(decodeManifest('{"format": 3, "nodes": [], "edges": []}')).toBeNull();
  });
});

describe('manifestsFromElements', () => {
  it('gives each domain the hashes of its own copies, and relationships their ends', () => {
    const a = ID('attack-pattern', 1);
    const r = ID('relationship', 1);
    const built = manifestsFromElements([
      { id: a, source: null, target: null, sourceHashes: ['ics-attack=x', 'mobile-attack=y'] },
      { id: r, source: a, target: a, sourceHashes: ['mobile-attack=z'] },
    ]);
    // The JSON as it was received is not in the graph: its hash is unknown until the next import.
    expect(built.get('ics-attack')?.nodes).toEqual(new Map([[a, { hash: 'x', raw: '' }]]));
    expect(built.get('mobile-attack')?.nodes).toEqual(new Map([[a, { hash: 'y', raw: '' }]]));
    expect(built.get('mobile-attack')?.edges).toEqual(
      new Map([[r, { hash: 'z', raw: '', source: a, target: a }]]),
    );
    expect(built.get('ics-attack')?.edges.size).toBe(0);
  });
});

describe('scopeDiff', () => {
  const hashOf = (id: string) => `h${id}`;
  const base = { domain: 'd', hashOf, force: false, invalid: new Set<string>() };

  it('plans only what moved, and reads only what some domain holds of it', () => {
    const held = [tech(1), tech(2), tech(3), rel(1, 1, 2)];
    const own = manifest(held, (o) => (o.id === tech(2).id ? 'old' : `h${o.id}`));
    const other = manifest([tech(4)]);
    const scope = scopeDiff({
      ...base,
      manifests: new Map([
        ['d', own],
        ['other', other],
      ]),
      // tech(3) left the bundle; tech(4) is new here but held by another domain; tech(5) is new.
      sdos: [tech(1), tech(2), tech(4), tech(5)],
      rels: [rel(1, 1, 2)],
    });
    expect(scope.unchanged.map((o) => o.id)).toEqual([tech(1).id, rel(1, 1, 2).id]);
    expect(scope.sdos.map((o) => o.id)).toEqual([tech(2).id, tech(4).id, tech(5).id]);
    expect(scope.rels).toEqual([]);
    expect(scope.nodeIds.sort()).toEqual([tech(2).id, tech(3).id, tech(4).id].sort());
    expect(scope.edgeRows).toEqual([]);
  });

  it('looks for a relationship between its old ends and its new ones', () => {
    const own = manifest([tech(1), tech(2), tech(3), rel(1, 1, 2), rel(2, 2, 3)]);
    const scope = scopeDiff({
      ...base,
      hashOf: (id) => (id === rel(1, 1, 2).id ? 'moved' : `h${id}`),
      manifests: new Map([['d', own]]),
      sdos: [tech(1), tech(2), tech(3)],
      // rel 1 now goes from 1 to 3; rel 2 left the bundle.
      rels: [rel(1, 1, 3)],
    });
    expect(scope.rels.map((o) => o.id)).toEqual([rel(1, 1, 2).id]);
    expect(scope.edgeRows).toEqual([
      { id: rel(1, 1, 2).id, source: tech(1).id, target: tech(2).id },
      { id: rel(1, 1, 2).id, source: tech(1).id, target: tech(3).id },
      { id: rel(2, 2, 3).id, source: tech(2).id, target: tech(3).id },
    ]);
  });

  it('never removes what was left out as invalid, nor edges when relationships are off', () => {
    const own = manifest([tech(1), tech(2), rel(1, 1, 2)]);
    const scope = scopeDiff({
      ...base,
      invalid: new Set([tech(2).id]),
      manifests: new Map([['d', own]]),
      sdos: [tech(1)],
      rels: null,
    });
    expect(scope.nodeIds).toEqual([]);
    expect(scope.edgeRows).toEqual([]);
    expect(scope.unchanged.map((o) => o.id)).toEqual([tech(1).id]);
  });

  it('plans everything when forced', () => {
    const own = manifest([tech(1), rel(1, 1, 1)]);
    const scope = scopeDiff({
      ...base,
      force: true,
      manifests: new Map([['d', own]]),
      sdos: [tech(1)],
      rels: [rel(1, 1, 1)],
    });
    expect(scope.unchanged).toEqual([]);
    expect(scope.sdos).toHaveLength(1);
    expect(scope.rels).toHaveLength(1);
    expect(scope.nodeIds).toEqual([tech(1).id]);
  });
});

describe('nextManifest', () => {
  const entryOf = (id: string) => ({ hash: `new${id}`, raw: `newraw${id}` });

  it('holds what was applied, keeps the entries of invalid objects and drops the removed', () => {
    const before = manifest([tech(1), tech(2), tech(3), rel(1, 1, 2)]);
    const next = nextManifest(
      before,
      { sdos: [tech(1)], rels: [rel(2, 1, 1)] },
      entryOf,
      new Set([tech(2).id]),
    );
    expect(next.nodes).toEqual(
      new Map([
        [tech(2).id, { hash: `h${tech(2).id}`, raw: `r${tech(2).id}` }],
        [tech(1).id, entryOf(tech(1).id)],
      ]),
    );
    expect(next.edges).toEqual(
      new Map([
        [rel(2, 1, 1).id, { ...entryOf(rel(2, 1, 1).id), source: tech(1).id, target: tech(1).id }],
      ]),
    );
  });

  it('leaves the edges as they were when relationships are not imported', () => {
    const before = manifest([tech(1), rel(1, 1, 1)]);
    const next = nextManifest(before, { sdos: [tech(1)], rels: null }, entryOf, new Set());
    expect(next.edges).toEqual(before.edges);
  });
});

describe('parseBundle with objects the graph already holds', () => {
  // No created/modified: invalid for an attack-pattern, unless held as it is.
  const odd = { type: 'attack-pattern', id: ID('attack-pattern', 9), name: 'held' };
  const raw = { type: 'bundle', id: ID('bundle', 1), objects: [odd, tech(1)] };
  // Compact JSON: each object's bytes in the bundle are its JSON.stringify.
  const bytes = (b: object) => Buffer.from(JSON.stringify(b));
  const rawOf = (o: object) => createHash('sha1').update(JSON.stringify(o)).digest('hex');
  const holding = (nodes: Array<[string, Entry]>, edges: Array<[string, EdgeEntry]> = []) =>
    heldCopies(new Map([['mobile-attack', { nodes: new Map(nodes), edges: new Map(edges) }]]));

  it('takes an object received exactly as held without validating or canonicalising it', () => {
    const held = { hash: 'the canonical hash on record', raw: rawOf(odd) };
    const parsed = parseBundle(bytes(raw), { held: holding([[odd.id, held]]) });
    expect(parsed.issues).toEqual([]);
    expect(parsed.objects.map((o) => o.id)).toEqual([odd.id, tech(1).id]);
    expect(parsed.hashes.get(odd.id)).toEqual(held);
    expect(parsed.canonical.has(odd.id)).toBe(false);
    expect(parsed.canonical.get(tech(1).id)?.hash).toBe(contentHash(tech(1)));
  });

  it('does not validate the same content received in another key order', () => {
    const reordered = { name: odd.name, id: odd.id, type: odd.type };
    const held = { hash: contentHash(odd), raw: rawOf(odd) };
    const parsed = parseBundle(bytes({ ...raw, objects: [reordered] }), {
      held: holding([[odd.id, held]]),
    });
    expect(parsed.issues).toEqual([]);
    expect(parsed.hashes.get(odd.id)).toEqual({ hash: contentHash(odd), raw: rawOf(reordered) });
  });

  it('validates it when its content differs from what the graph holds', () => {
    const other = { hash: 'other', raw: 'other' };
    const parsed = parseBundle(bytes(raw), {
      held: holding([
        [odd.id, other],
        [tech(1).id, other],
      ]),
    });
    expect(parsed.objects.map((o) => o.id)).toEqual([tech(1).id]);
    expect(parsed.issues.map((i) => i.object)).toEqual([odd.id, odd.id]);
  });

  const r = rel(1, 1, 1);
  const heldRel = (o: StixObject): EdgeEntry => ({
    hash: contentHash(o),
    raw: rawOf(o),
    source: o.source_ref as string,
    target: o.target_ref as string,
  });

  it('keeps a relationship received byte for byte as held as its id, type and ends, whole on demand', () => {
    const parsed = parseBundle(bytes({ ...raw, objects: [tech(1), r] }), {
      held: holding([], [[r.id, heldRel(r)]]),
    });
    const got = parsed.objects.find((o) => o.id === r.id) as StixObject;
    expect(got).toEqual({
      id: r.id,
      type: 'relationship',
      source_ref: r.source_ref,
      target_ref: r.target_ref,
    });
    expect(wholeObject(got)).toEqual(r);
    expect(parsed.hashes.get(r.id)).toEqual({ hash: contentHash(r), raw: rawOf(r) });
    expect(parsed.canonical.has(r.id)).toBe(false);
    expect(parsed.issues).toEqual([]);
  });

  it('reads a held relationship whose bytes moved (spacing), and keeps the newest of duplicates, held or not', () => {
    const spaced = Buffer.from(JSON.stringify({ ...raw, objects: [tech(1), r] }, null, 1));
    const moved = parseBundle(spaced, { held: holding([], [[r.id, heldRel(r)]]) });
    expect(moved.objects.find((o) => o.id === r.id)).toEqual(r);

    const newer = { ...r, modified: '2025-06-01T00:00:00.000Z', description: 'newer' };
    const both = parseBundle(bytes({ ...raw, objects: [tech(1), newer, r] }), {
      held: holding([], [[r.id, heldRel(r)]]),
    });
    expect(both.objects.filter((o) => o.id === r.id)).toEqual([newer]);
    expect(both.hashes.get(r.id)?.raw).toBe(rawOf(newer));

    // The held copy is the newer one, after an older copy: it is kept.
    const older = { ...r, modified: '2024-06-01T00:00:00.000Z', description: 'older' };
    const kept = parseBundle(bytes({ ...raw, objects: [tech(1), older, r] }), {
      held: holding([], [[r.id, heldRel(r)]]),
    });
    expect(kept.objects.filter((o) => o.id === r.id).map(wholeObject)).toEqual([r]);
    expect(kept.hashes.get(r.id)?.raw).toBe(rawOf(r));
  });

  it('keeps an object received byte for byte as held as its id, type and reference fields, and still checks them', () => {
    const matrix = {
      type: 'x-mitre-matrix',
      id: ID('x-mitre-matrix', 1),
      created: T,
      modified: T,
      name: 'Enterprise',
      tactic_refs: [ID('x-mitre-tactic', 1)],
    };
    const first = parseBundle(bytes({ ...raw, objects: [matrix] }));
    const entry = first.hashes.get(matrix.id) as Entry;
    expect(entry.refs).toEqual({ tactic_refs: matrix.tactic_refs });
    const again = parseBundle(bytes({ ...raw, objects: [matrix] }), {
      held: holding([[matrix.id, entry]]),
    });
    const got = again.objects[0] as StixObject;
    expect(got).toEqual({ id: matrix.id, type: 'x-mitre-matrix', tactic_refs: matrix.tactic_refs });
    expect(wholeObject(got)).toEqual(matrix);
    expect(again.hashes.get(matrix.id)).toEqual(entry);
    // The tactic is not in the bundle: the same warning as for the object parsed.
    expect(again.issues).toEqual(first.issues);
    expect(again.issues).toEqual([
      expect.objectContaining({ severity: 'warning', object: matrix.id, path: 'tactic_refs' }),
    ]);
  });

  it('gives the diff the whole relationship when this domain does not hold it as it is', () => {
    const held = heldCopies(
      new Map([
        ['mobile-attack', { nodes: new Map(), edges: new Map([[r.id, heldRel(r)]]) }],
        ['ics-attack', emptyManifest()],
      ]),
    );
    const parsed = parseBundle(bytes({ ...raw, objects: [tech(1), r] }), { held });
    const rels = parsed.objects.filter((o) => o.type === 'relationship');
    const scope = scopeDiff({
      domain: 'ics-attack',
      manifests: new Map([['ics-attack', emptyManifest()]]),
      sdos: [],
      rels,
      hashOf: (id) => parsed.hashes.get(id)?.hash as string,
      force: false,
      invalid: new Set(),
    });
    expect(scope.rels).toEqual([r]);
  });
});
