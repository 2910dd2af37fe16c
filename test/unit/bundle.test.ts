import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { parseBundle, type ParseOptions } from '../../src/attack/bundle';
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

/** A bundle as it travels: its JSON bytes. */
function parse(value: unknown, opts?: ParseOptions) {
  return parseBundle(Buffer.from(JSON.stringify(value)), opts);
}

describe('parseBundle: bytes', () => {
  const json = JSON.stringify(bundle([technique(1)]));

  it('reads plain JSON', () => {
    expect(parseBundle(Buffer.from(json)).objects).toEqual([technique(1)]);
  });

  it('detects gzip by its magic number, whatever the name', () => {
    expect(parseBundle(gzipSync(json)).objects).toEqual([technique(1)]);
  });

  it('says a truncated gzip is truncated', () => {
    const gz = gzipSync(json);
    expect(() => parseBundle(gz.subarray(0, gz.length - 10))).toThrow(
      /gzip data is corrupt or truncated/,
    );
  });

  it('caps what gzip decompresses to, and plain bytes too', () => {
    expect(() => parseBundle(gzipSync(json), { maxBytes: 100 })).toThrow(PayloadTooLargeError);
    expect(() => parseBundle(Buffer.from(json), { maxBytes: 100 })).toThrow(PayloadTooLargeError);
  });

  it('says invalid JSON is invalid JSON', () => {
    expect(() => parseBundle(Buffer.from('{"type":'))).toThrow(InvalidBundleError);
    expect(() => parseBundle(Buffer.from('{"type":'))).toThrow(/not valid JSON/);
  });

  it('reads any spacing, and strings holding brackets, quotes and escapes', () => {
    const odd = technique(1, { name: 'a "quoted" [name] {with} \\ and \u00e9', x_list: [[], {}] });
    const spaced = JSON.stringify(bundle([odd, technique(2)]), null, '\t').replace(/\n/g, '\r\n ');
    expect(parseBundle(Buffer.from(spaced)).objects).toEqual([odd, technique(2)]);
  });

  it('reads an escaped "objects" key, and of repeated keys the last (as JSON.parse does)', () => {
    const text = `{"type":"bundle","id":"${ID('bundle', 1)}","objects":[${JSON.stringify(technique(1))}],"obj\\u0065cts":[${JSON.stringify(technique(2))}]}`;
    expect(parseBundle(Buffer.from(text)).objects).toEqual([technique(2)]);
  });

  it.each([
    ['a missing comma between objects', (a: string, b: string) => `[${a} ${b}]`],
    ['a trailing comma', (a: string, b: string) => `[${a},${b},]`],
    ['a broken object', (a: string, b: string) => `[${a},${b.slice(0, -1)}]`],
    ['text after the bundle', (a: string, b: string) => `[${a},${b}]} {}`],
  ])('rejects %s as invalid JSON', (_name, objects) => {
    const [a, b] = [technique(1), technique(2)].map((t) => JSON.stringify(t)) as [string, string];
    const text = `{"type":"bundle","id":"${ID('bundle', 1)}","objects":${objects(a, b)}}`;
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(() => parseBundle(Buffer.from(text))).toThrow(/not valid JSON/);
  });

  it('locates an object that is not valid JSON by its index', () => {
    const text = `{"type":"bundle","id":"${ID('bundle', 1)}","objects":[${JSON.stringify(technique(1))},{"type":tru}]}`;
    expect(() => parseBundle(Buffer.from(text))).toThrow(
      /not valid JSON \(objects\[1\], at byte \d+\)/,
    );
  });

  it('names what is missing when objects is absent or not an array', () => {
    expect(() => parse({ type: 'bundle', id: ID('bundle', 1) })).toThrow(/objects/);
    expect(() => parse({ type: 'bundle', id: ID('bundle', 1), objects: {} })).toThrow(
      /objects must be an array/,
    );
  });
});

describe('parseBundle', () => {
  it('rejects what is not a bundle, naming the fields', () => {
    expect(() => parse({ type: 'x', id: 'nope', objects: [] })).toThrow(
      /type: type must be "bundle"; id: not a bundle identifier/,
    );
    expect(() => parse([])).toThrow(InvalidBundleError);
  });

  it('keeps valid objects and reports invalid ones with their id and path', () => {
    const r = parse(
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
    expect(() => parse(b, { strict: true })).toThrow(
      /strict mode: 1 invalid object\(s\): attack-pattern--bad id/,
    );
  });

  it('keeps the most recently modified copy of a duplicate id, with a warning', () => {
    const older = technique(1, { name: 'old' });
    const newer = technique(1, { name: 'new', modified: '2025-06-01T00:00:00Z' });
    const r = parse(bundle([newer, older]));
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
    const r = parse(
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
    const r = parse(bundle([dc]), { strict: true });
    expect(r.objects).toHaveLength(1);
    expect(r.issues).toEqual([
      expect.objectContaining({ severity: 'warning', path: 'x_mitre_data_source_ref' }),
    ]);
  });

  it('requires a tactic shortname and matrix tactic_refs', () => {
    const r = parse(
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

  it('refuses a flood of invalid objects whole, in bounded time and memory', () => {
    // Elements too short to be STIX objects stop the byte walk itself: nothing kept per element.
    const tiny = (n: number) =>
      Buffer.from(`{"type":"bundle","id":"${ID('bundle', 1)}","objects":[${Array(n).fill('0')}]}`);
    expect(() => parseBundle(tiny(5_000_000))).toThrow(
      /more than 1000 elements of objects are too short to be STIX objects \(the first at byte \d+\): the bundle is refused whole/,
    );
    // Up to the bound they are invalid objects like any other, reported by index.
    const some = parseBundle(tiny(1_000));
    expect(some.objects).toEqual([]);
    expect(some.issues).toHaveLength(1_000);
    expect(some.issues[999]).toMatchObject({ severity: 'error', object: 'objects[999]' });
    // Objects long enough to be STIX but invalid: refused past the same bound, naming the first.
    const bad = Array.from({ length: 1_001 }, (_, i) => technique(i, { created: 'yesterday' }));
    expect(() => parse(bundle([technique(5_000), ...bad]))).toThrow(
      /more than 1000 invalid objects \(the first: attack-pattern--00000000-0000-4000-8000-000000000000 created: .*\): the bundle is refused whole/,
    );
    // The bound counts objects, not problems (each of these has two).
    const kept = parse(bundle(bad.slice(0, 1_000))).issues;
    expect(new Set(kept.map((i) => i.object)).size).toBe(1_000);
    expect(kept.length).toBeGreaterThan(1_000);
  });

  it('keeps the first thousand warnings and counts them all', () => {
    const copies = Array.from({ length: 1_500 }, () => technique(1));
    const parsed = parse(bundle(copies));
    expect(parsed.objects).toHaveLength(1);
    expect(parsed.warningCount).toBe(1_499);
    expect(parsed.issues).toHaveLength(1_000);
    expect(parsed.issues.every((i) => i.severity === 'warning')).toBe(true);
  });

  it('lets unknown and custom types through with the common checks', () => {
    const r = parse(
      bundle([{ type: 'x-acme-widget', id: ID('x-acme-widget', 1), colour: 'blue' }]),
    );
    expect(r.objects).toEqual([
      { type: 'x-acme-widget', id: ID('x-acme-widget', 1), colour: 'blue' },
    ]);
  });
});

describe('parseBundle: the byte walk agrees with JSON.parse', () => {
  const RUNS = Number(process.env.TTPGRAPH_PROPERTY_RUNS ?? 300);
  // Strings rich in what the walk must not take for structure: quotes, backslashes, brackets.
  const tricky = fc.string({
    unit: fc.constantFrom(
      '"',
      '\\',
      '[',
      ']',
      '{',
      '}',
      ',',
      ':',
      ' ',
      '\n',
      'a',
      'é',
      '😀',
      '\u0000',
    ),
  });
  const value = fc.letrec((tie) => ({
    any: fc.oneof(
      { depthSize: 'small' },
      tricky,
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('any'), { maxLength: 3 }),
      fc.dictionary(tricky, tie('any'), { maxKeys: 3 }),
    ),
  })).any;
  const widget = fc
    .tuple(fc.integer({ min: 1, max: 10 ** 9 }), fc.dictionary(tricky, value, { maxKeys: 4 }))
    .map(([n, props]) => ({ ...props, type: 'x-acme-widget', id: ID('x-acme-widget', n) }));

  it('finds the same objects whatever the spacing, keys around objects and string content', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(widget, { selector: (w) => w.id, maxLength: 6 }),
        fc.dictionary(tricky, value, { maxKeys: 3 }),
        fc.constantFrom(undefined, 1, '\t', ' \r\n '),
        (objects, extra, indent) => {
          const text = JSON.stringify({ ...extra, ...bundle(objects) }, null, indent);
          const parsed = parseBundle(Buffer.from(text));
          expect(parsed.objects).toEqual((JSON.parse(text) as { objects: unknown[] }).objects);
          expect(parsed.totalObjects).toBe(objects.length);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never takes text that JSON.parse rejects (one character cut or doubled)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(widget, { selector: (w) => w.id, minLength: 1, maxLength: 4 }),
        fc.constantFrom(undefined, 1),
        fc.nat(),
        fc.boolean(),
        (objects, indent, at, cut) => {
          const text = JSON.stringify(bundle(objects), null, indent);
          const i = at % text.length;
          const broken = text.slice(0, i) + (cut ? '' : text[i]) + text.slice(i + 1);
          let json: { objects?: unknown } | undefined;
          try {
            json = JSON.parse(broken) as { objects?: unknown };
          } catch {
            expect(() => parseBundle(Buffer.from(broken))).toThrow(InvalidBundleError);
            return;
          }
          // Still JSON (a cut inside a string): the same elements, or a refusal of its shape.
          let total: number;
          try {
            total = parseBundle(Buffer.from(broken)).totalObjects;
          } catch (err) {
            expect(err).toBeInstanceOf(InvalidBundleError);
            return;
          }
          expect(total).toBe((json.objects as unknown[]).length);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
