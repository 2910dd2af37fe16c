import { gzipSync } from 'node:zlib';
import { decodeBundleBytes, parseBundle } from '../../src/attack/bundle';
import { InvalidBundleError, PayloadTooLargeError } from '../../src/shared/errors';

const ID = (type: string, n: number) =>
  `${type}--00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const T = '2025-01-01T00:00:00.000Z';

function technique(n: number, extra: Record<string, unknown> = {}) {
  return {
    type: 'attack-pattern',
    id: ID('attack-pattern', n),
    created: T,
    modified: T,
    name: `T${n}`,
    ...extra,
  };
}

function bundle(objects: unknown[]) {
  return { type: 'bundle', id: ID('bundle', 1), objects };
}

describe('decodeBundleBytes', () => {
  const json = JSON.stringify(bundle([technique(1)]));

  it('reads plain JSON', () => {
    expect(decodeBundleBytes(Buffer.from(json))).toEqual(JSON.parse(json));
  });

  it('detects gzip by its magic number, whatever the name', () => {
    expect(decodeBundleBytes(gzipSync(json))).toEqual(JSON.parse(json));
  });

  it('says a truncated gzip is truncated', () => {
    const gz = gzipSync(json);
    expect(() => decodeBundleBytes(gz.subarray(0, gz.length - 10))).toThrow(
      /gzip data is corrupt or truncated/,
    );
  });

  it('caps what gzip decompresses to', () => {
    expect(() => decodeBundleBytes(gzipSync(json), 100)).toThrow(PayloadTooLargeError);
  });

  it('says invalid JSON is invalid JSON', () => {
    expect(() => decodeBundleBytes(Buffer.from('{"type":'))).toThrow(InvalidBundleError);
  });
});

describe('parseBundle', () => {
  it('rejects what is not a bundle, naming the fields', () => {
    expect(() => parseBundle({ type: 'x', id: 'nope', objects: [] })).toThrow(
      /type: type must be "bundle"; id: not a bundle identifier/,
    );
    expect(() => parseBundle([])).toThrow(InvalidBundleError);
  });

  it('keeps valid objects and reports invalid ones with their id and path', () => {
    const r = parseBundle(
      bundle([
        technique(1),
        { type: 'attack-pattern', id: ID('attack-pattern', 2), created: 'yesterday', modified: T },
        { type: 'Attack Pattern', id: 'x' },
        { ...technique(3), id: ID('malware', 3) },
        { type: 'attack-pattern', id: ID('attack-pattern', 4), created: T },
        'not an object',
      ]),
    );
    expect(r.objects.map((o) => o.id)).toEqual([ID('attack-pattern', 1)]);
    expect(r.totalObjects).toBe(6);
    expect(r.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          object: ID('attack-pattern', 2),
          path: 'created',
          severity: 'error',
        }),
        expect.objectContaining({ object: 'x', path: 'type' }),
        expect.objectContaining({
          object: ID('malware', 3),
          path: 'id',
          message: expect.stringContaining('does not match type'),
        }),
        expect.objectContaining({
          object: ID('attack-pattern', 4),
          path: 'modified',
          message: 'required for attack-pattern',
        }),
        expect.objectContaining({ object: 'objects[5]' }),
      ]),
    );
  });

  it('in strict mode rejects the bundle and lists every invalid object', () => {
    const b = bundle([technique(1), { type: 'attack-pattern', id: 'attack-pattern--bad' }]);
    expect(() => parseBundle(b, { strict: true })).toThrow(
      /strict mode: 1 invalid object\(s\): attack-pattern--bad id/,
    );
  });

  it('keeps the most recently modified copy of a duplicate id, with a warning', () => {
    const older = technique(1, { name: 'old' });
    const newer = technique(1, { name: 'new', modified: '2025-06-01T00:00:00Z' });
    const r = parseBundle(bundle([newer, older]));
    expect(r.objects).toHaveLength(1);
    expect(r.objects[0]?.name).toBe('new');
    expect(r.issues).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining('duplicate id'),
      }),
    ]);
  });

  it('drops a relationship whose end is invalid, and lists ends outside the bundle for the graph to resolve', () => {
    const rel = (n: number, source: string, target: string) => ({
      type: 'relationship',
      id: ID('relationship', n),
      created: T,
      modified: T,
      relationship_type: 'uses',
      source_ref: source,
      target_ref: target,
    });
    const r = parseBundle(
      bundle([
        technique(1),
        { ...technique(2), created: 'bad' },
        rel(1, ID('attack-pattern', 1), ID('attack-pattern', 2)),
        rel(2, ID('attack-pattern', 1), ID('intrusion-set', 9)),
      ]),
    );
    expect(r.objects.map((o) => o.id)).toEqual([ID('attack-pattern', 1), ID('relationship', 2)]);
    expect(r.issues).toContainEqual(
      expect.objectContaining({
        object: ID('relationship', 1),
        message: expect.stringContaining('invalid object'),
      }),
    );
    expect([...r.externalRefs]).toEqual([[ID('relationship', 2), [ID('intrusion-set', 9)]]]);
  });

  it("treats MITRE's empty x_mitre_data_source_ref as a warning, even in strict mode", () => {
    const dc = {
      type: 'x-mitre-data-component',
      id: ID('x-mitre-data-component', 1),
      created: T,
      modified: T,
      x_mitre_data_source_ref: '',
    };
    const r = parseBundle(bundle([dc]), { strict: true });
    expect(r.objects).toHaveLength(1);
    expect(r.issues).toEqual([
      expect.objectContaining({ severity: 'warning', path: 'x_mitre_data_source_ref' }),
    ]);
  });

  it('requires a tactic shortname and matrix tactic_refs', () => {
    const r = parseBundle(
      bundle([
        {
          type: 'x-mitre-tactic',
          id: ID('x-mitre-tactic', 1),
          created: T,
          modified: T,
          name: 'Execution',
        },
        {
          type: 'x-mitre-matrix',
          id: ID('x-mitre-matrix', 1),
          created: T,
          modified: T,
          tactic_refs: ['nope'],
        },
      ]),
    );
    expect(r.objects).toHaveLength(0);
    expect(r.issues.map((i) => i.path).sort()).toEqual(['tactic_refs.0', 'x_mitre_shortname']);
  });

  it('lets unknown and custom types through with the common checks', () => {
    const r = parseBundle(
      bundle([{ type: 'x-acme-widget', id: ID('x-acme-widget', 1), colour: 'blue' }]),
    );
    expect(r.objects).toEqual([
      { type: 'x-acme-widget', id: ID('x-acme-widget', 1), colour: 'blue' },
    ]);
  });
});
