import { hash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { InvalidBundleError, PayloadTooLargeError } from '../shared/errors';
import { bundleLayout } from './bundle-layout';
import type { Entry, HeldCopies, HeldElement } from './manifest';
import { canonical, type Canonical } from './model';
import { checkBundleShape, checkObject, STIX_ID_RE, type StixObject } from './stix-schema';

export interface BundleIssue {
  severity: 'error' | 'warning';
  /** The object's STIX id, or its index when it has no usable id. */
  object: string;
  type?: string;
  path: string;
  message: string;
}

export interface ParsedBundle {
  id: string;
  objects: StixObject[];
  /** Each kept object's hashes (canonical and as received), by id. */
  hashes: Map<string, Entry>;
  /**
   * Canonical JSON computed while parsing, by id, for the diff and the graph. Objects the graph
   * holds byte for byte are not canonicalised (their hash is known); the diff computes it if needed.
   */
  canonical: Map<string, Canonical>;
  /**
   * Objects skipped (errors, every one: past MAX_INVALID_OBJECTS the bundle is refused) and quirks
   * kept (warnings, the first MAX_KEPT_WARNINGS of them), in bundle order.
   */
  issues: BundleIssue[];
  /** Every warning found, kept or not. */
  warningCount: number;
  /** Relationship id → endpoint ids that are not in this bundle (they may be in the graph). */
  externalRefs: Map<string, string[]>;
  totalObjects: number;
}

/**
 * A bundle with more invalid objects than this is refused whole: it is not a release with a few
 * bad objects but something else (a broken export, a lying source), and each invalid object costs
 * an issue kept for the report, so a flood of tiny ones would cost memory without bound.
 */
export const MAX_INVALID_OBJECTS = 1_000;
/** Warnings kept for the report; the rest are counted. */
const MAX_KEPT_WARNINGS = 1_000;

/** The issues of one bundle with their bounds: see MAX_INVALID_OBJECTS. */
export class IssueLog {
  /** The objects with errors (an object may have several), by id or `objects[index]`. */
  readonly invalid = new Set<string>();

  /** Continues a log: its issues kept, and every warning found (kept or not) when known. */
  constructor(
    readonly issues: BundleIssue[] = [],
    public warningCount = issues.filter((i) => i.severity === 'warning').length,
  ) {
    for (const i of issues) if (i.severity === 'error') this.invalid.add(i.object);
  }

  add(issue: BundleIssue): void {
    if (issue.severity === 'warning') {
      if (this.warningCount++ < MAX_KEPT_WARNINGS) this.issues.push(issue);
      return;
    }
    this.issues.push(issue);
    this.invalid.add(issue.object);
    if (this.invalid.size > MAX_INVALID_OBJECTS) {
      throw new InvalidBundleError(
        `more than ${MAX_INVALID_OBJECTS} invalid objects (the first: ${describe(this.issues.find((i) => i.severity === 'error') as BundleIssue)}): the bundle is refused whole`,
        { issues: this.issues.filter((i) => i.severity === 'error').slice(0, 20) },
      );
    }
  }
}

function describe(e: BundleIssue): string {
  return `${e.object}${e.path ? ` ${e.path}` : ''}: ${e.message}`;
}

const GZIP_MAGIC = [0x1f, 0x8b];

// What V8 can hold as one string, and so the most any bundle can be.
const MAX_TEXT_BYTES = 512 * 1024 * 1024;

/**
 * The bundle's JSON text, gzip detected by its magic number rather than trusted from a file name.
 * The output of gunzip is capped: a small upload must not decompress into gigabytes.
 */
function bundleText(bytes: Buffer, maxBytes = MAX_TEXT_BYTES): Buffer {
  const limit = Math.min(maxBytes, MAX_TEXT_BYTES);
  if (bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      return gunzipSync(bytes, { maxOutputLength: limit });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new PayloadTooLargeError(
          `the bundle decompresses to more than ${limit} bytes (TTPGRAPH_MAX_BUNDLE_BYTES)`,
        );
      }
      throw new InvalidBundleError(
        `the gzip data is corrupt or truncated: ${(err as Error).message}`,
      );
    }
  }
  if (bytes.length > limit)
    throw new PayloadTooLargeError(`the bundle is over ${limit} bytes (TTPGRAPH_MAX_BUNDLE_BYTES)`);
  return bytes;
}

/** JSON.parse, its failure said without quoting the text (a bundle fetched from a URL). */
function parseJson(text: string, where = ''): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new InvalidBundleError(
      `the bundle is not valid JSON${where || (at ? ` (at character ${at})` : '')}`,
    );
  }
}

// Elements taken as held (see ParseOptions.held) stand in for the object until it is needed.
const wholeOf = new WeakMap<object, () => StixObject>();

/**
 * The object itself: an element received exactly as the graph holds it is kept as its id, type
 * and what the parse checks of it (a relationship's ends, an object's REF_FIELDS) until something
 * needs the rest: the diff, when it changes domains; derived edges, when their targets are new.
 */
export function wholeObject(o: StixObject): StixObject {
  return wholeOf.get(o)?.() ?? o;
}

function laterOf(a: StixObject, b: StixObject): StixObject {
  return Date.parse(b.modified ?? b.created ?? '') > Date.parse(a.modified ?? a.created ?? '')
    ? b
    : a;
}

export interface ParseOptions {
  strict?: boolean;
  /** The most the bundle's JSON text may be (a gzip's output included). */
  maxBytes?: number;
  /**
   * What the graph holds (see manifest.ts). An object the graph holds as it is was validated when
   * it was written, so it is not validated again (most of an update's objects); one held byte for
   * byte is not even parsed (see wholeObject).
   */
  held?: HeldCopies;
}

/**
 * Validates a bundle: its shape, each object, duplicate ids, and references between objects.
 * Invalid objects are dropped and reported as errors (strict mode rejects the whole bundle);
 * MITRE's own quirks (an empty x_mitre_data_source_ref, a sub-technique of a revoked parent) are
 * warnings and never stop an import.
 */
export function parseBundle(bytes: Buffer, opts: ParseOptions = {}): ParsedBundle {
  const text = bundleText(bytes, opts.maxBytes);
  const layout = bundleLayout(text, MAX_INVALID_OBJECTS);
  const shape = checkBundleShape(parseJson(layout?.envelope ?? text.toString('utf8')));
  if (!shape.ok) {
    throw new InvalidBundleError(
      `not a STIX 2.1 bundle: ${shape.problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
      { problems: shape.problems },
    );
  }
  if (!layout)
    throw new InvalidBundleError('the bundle is not a JSON object with an objects array');
  const log = new IssueLog();
  const byId = new Map<string, StixObject>();
  const canonicalById = new Map<string, Canonical>();
  const hashes = new Map<string, Entry>();
  layout.elements.forEach(([start, end], index) => {
    // The hash of the bytes as received: cheap, and sensitive to key order and spacing.
    const raw = hash('sha1', text.subarray(start, end));
    const read = () =>
      parseJson(text.toString('utf8', start, end), ` (objects[${index}], at byte ${start})`);
    // The same bytes held: the same content, validated when written, its canonical hash known.
    const held = opts.held?.byRaw(raw);
    const rawObj = held ? standIn(held, read) : read();
    const c = held ? undefined : canonical(rawObj);
    const entry: Entry = { hash: held?.hash ?? (c as Canonical).hash, raw };
    const rawId = (rawObj as { id?: unknown } | null)?.id;
    // The same content in other bytes (key order, spacing) was validated too.
    const sameContent =
      !held &&
      typeof rawId === 'string' &&
      (opts.held?.byId(rawId) ?? []).some((e) => e.hash === entry.hash);
    const checked =
      held || sameContent
        ? { ok: true as const, object: rawObj as StixObject }
        : checkObject(rawObj);
    if (!checked.ok) {
      const maybe = rawObj as { id?: unknown; type?: unknown } | null;
      const id = typeof maybe?.id === 'string' ? maybe.id : `objects[${index}]`;
      for (const p of checked.problems) {
        log.add({
          severity: 'error',
          object: id,
          type: typeof maybe?.type === 'string' ? maybe.type : undefined,
          path: p.path,
          message: p.message,
        });
      }
      return;
    }
    const obj = checked.object;
    const prior = byId.get(obj.id);
    if (prior) {
      log.add({
        severity: 'warning',
        object: obj.id,
        type: obj.type,
        path: 'id',
        message: 'duplicate id in the bundle: the most recently modified copy is kept',
      });
      const whole = wholeObject(obj);
      if (laterOf(wholeObject(prior), whole) !== whole) return;
    }
    byId.set(obj.id, obj);
    hashes.set(obj.id, obj.type === 'relationship' ? entry : { ...entry, refs: refsOf(obj) });
    if (c) canonicalById.set(obj.id, c);
    else canonicalById.delete(obj.id);
  });

  // Relationships whose endpoints are absent may point into the graph (another domain): the
  // importer resolves those; endpoints dropped above as invalid make the relationship invalid.
  const invalidIds = new Set(log.invalid);
  const externalRefs = new Map<string, string[]>();
  for (const obj of byId.values()) {
    if (obj.type !== 'relationship') {
      warnOnDanglingRefs(obj, byId, log);
      continue;
    }
    const rel = obj as StixObject & { source_ref: string; target_ref: string };
    const broken = [rel.source_ref, rel.target_ref].filter((r) => invalidIds.has(r));
    if (broken.length > 0) {
      log.add({
        severity: 'error',
        object: rel.id,
        type: rel.type,
        path: 'source_ref/target_ref',
        message: `refers to an invalid object: ${broken.join(', ')}`,
      });
      byId.delete(rel.id);
      hashes.delete(rel.id);
      canonicalById.delete(rel.id);
      continue;
    }
    const missing = [rel.source_ref, rel.target_ref].filter((r) => !byId.has(r));
    if (missing.length > 0) externalRefs.set(rel.id, missing);
  }

  if (opts.strict) rejectIfErrors(log.issues);
  return {
    id: shape.id,
    objects: [...byId.values()],
    hashes,
    canonical: canonicalById,
    issues: log.issues,
    warningCount: log.warningCount,
    externalRefs,
    totalObjects: layout.elements.length,
  };
}

/** An element the graph holds byte for byte, as its id, type and what the parse checks of it. */
function standIn(held: HeldElement, read: () => unknown): StixObject {
  const stub = (
    'source' in held
      ? { id: held.id, type: 'relationship', source_ref: held.source, target_ref: held.target }
      : { ...held.refs, id: held.id, type: held.id.slice(0, held.id.indexOf('--')) }
  ) as StixObject;
  wholeOf.set(stub, read as () => StixObject);
  return stub;
}

/** Strict mode: any error rejects the whole bundle, listing every one of them. */
export function rejectIfErrors(issues: BundleIssue[]): void {
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length === 0) return;
  const shown = errors.slice(0, 20).map(describe);
  const more = errors.length > 20 ? `; and ${errors.length - 20} more` : '';
  throw new InvalidBundleError(
    `strict mode: ${errors.length} invalid object(s): ${shown.join('; ')}${more}`,
    {
      issues: errors,
    },
  );
}

// Reference fields of ATT&CK objects that the graph turns into edges (see model.ts), checked
// against the rest of the bundle.
const REF_FIELDS = ['tactic_refs', 'x_mitre_analytic_refs', 'x_mitre_data_source_ref'];

function refsOf(obj: StixObject): Record<string, unknown> | undefined {
  const present = REF_FIELDS.filter((f) => obj[f] !== undefined);
  return present.length > 0 ? Object.fromEntries(present.map((f) => [f, obj[f]])) : undefined;
}

function warnOnDanglingRefs(obj: StixObject, byId: Map<string, StixObject>, log: IssueLog): void {
  for (const field of REF_FIELDS) {
    const value = obj[field];
    const refs = Array.isArray(value) ? value : value === undefined ? [] : [value];
    for (const ref of refs) {
      if (ref === '') {
        log.add({
          severity: 'warning',
          object: obj.id,
          type: obj.type,
          path: field,
          message: 'empty reference ignored',
        });
      } else if (typeof ref !== 'string' || !STIX_ID_RE.test(ref)) {
        log.add({
          severity: 'warning',
          object: obj.id,
          type: obj.type,
          path: field,
          message: `not a STIX id: ${String(ref)}`,
        });
      } else if (!byId.has(ref)) {
        log.add({
          severity: 'warning',
          object: obj.id,
          type: obj.type,
          path: field,
          message: `refers to ${ref}, which is not in the bundle`,
        });
      }
    }
  }
}
