/**
 * Where each element of a bundle's `objects` array lies in its bytes, found without parsing them:
 * an update hashes every element as it came and parses only those the graph does not hold byte for
 * byte (most of a release's 20,000 relationships are unchanged). The walk checks the structure it
 * crosses (strings, separators, the end of the text); everything it leaves unparsed is either
 * parsed later (the envelope, each new element) or the very bytes of an element parsed before.
 */
import { InvalidBundleError } from '../shared/errors';

export interface BundleLayout {
  /** The top-level object with its `objects` array emptied, for the shape check. */
  envelope: string;
  /** Each element's byte range, [start, end). */
  elements: Array<[number, number]>;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

class NotABundle extends Error {}

/**
 * No STIX object is shorter: `{"type":"abc","id":"abc--<36-character UUID>"}` (a type name has at
 * least three characters). Shorter elements are invalid without parsing them.
 */
export const MIN_OBJECT_BYTES = 63;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(b: Buffer, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

/** `i` at an opening quote: the index after the closing one. */
function endOfString(b: Buffer, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, from);
    if (q < 0) throw new NotABundle();
    let slashes = 0;
    while (b[q - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** `i` at the start of any value: the index after it (nesting counted, not matched). */
function endOfValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return endOfString(b, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    for (let j = i; j < b.length;) {
      const d = b[j];
      if (d === QUOTE) {
        j = endOfString(b, j);
        continue;
      }
      if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
      else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    throw new NotABundle();
  }
  let j = i;
  while (
    j < b.length &&
    !isSpace(b[j]) &&
    b[j] !== COMMA &&
    b[j] !== CLOSE_ARRAY &&
    b[j] !== CLOSE_OBJECT
  )
    j++;
  if (j === i) throw new NotABundle();
  return j;
}

function expect(b: Buffer, i: number, c: number): number {
  if (b[i] !== c) throw new NotABundle();
  return i + 1;
}

/**
 * The elements of an array starting at `i`, and the index after it. Past `maxShort` elements too
 * short to be objects it stops: a flood of `0,0,0,…` would otherwise cost a range (and later an
 * issue) per two bytes.
 */
function arrayElements(
  b: Buffer,
  i: number,
  maxShort: number,
): { elements: Array<[number, number]>; end: number } {
  const elements: Array<[number, number]> = [];
  let short = 0;
  let firstShort = -1;
  i = skipSpace(b, expect(b, i, OPEN_ARRAY));
  if (b[i] === CLOSE_ARRAY) return { elements, end: i + 1 };
  for (;;) {
    const start = i;
    i = endOfValue(b, i);
    if (i - start < MIN_OBJECT_BYTES) {
      if (firstShort < 0) firstShort = start;
      if (++short > maxShort) {
        throw new InvalidBundleError(
          `more than ${maxShort} elements of objects are too short to be STIX objects (the first at byte ${firstShort}): the bundle is refused whole`,
        );
      }
    }
    elements.push([start, i]);
    i = skipSpace(b, i);
    if (b[i] === CLOSE_ARRAY) return { elements, end: i + 1 };
    i = skipSpace(b, expect(b, i, COMMA));
  }
}

/**
 * The layout of a JSON object with an `objects` array (the last one, as JSON.parse keeps the last
 * of repeated keys), or null for any other text: the caller parses it whole for its error. More
 * than `maxShort` elements too short to be STIX objects refuse the bundle (InvalidBundleError).
 */
export function bundleLayout(b: Buffer, maxShort = Infinity): BundleLayout | null {
  try {
    let objects: { start: number; end: number; elements: Array<[number, number]> } | null = null;
    let i = skipSpace(b, expect(b, skipSpace(b, 0), OPEN_OBJECT));
    if (b[i] !== CLOSE_OBJECT) {
      for (;;) {
        expect(b, i, QUOTE);
        const keyStart = i;
        i = endOfString(b, i);
        const key = b.subarray(keyStart, i);
        const name = key.includes(BACKSLASH)
          ? (JSON.parse(key.toString('utf8')) as string)
          : key.toString('utf8', 1, key.length - 1);
        i = skipSpace(b, expect(b, skipSpace(b, i), COLON));
        if (name === 'objects' && b[i] === OPEN_ARRAY) {
          const { elements, end } = arrayElements(b, i, maxShort);
          objects = { start: i, end, elements };
          i = end;
        } else {
          if (name === 'objects') objects = null;
          i = endOfValue(b, i);
        }
        i = skipSpace(b, i);
        if (b[i] === CLOSE_OBJECT) break;
        i = skipSpace(b, expect(b, i, COMMA));
      }
    }
    if (skipSpace(b, i + 1) !== b.length || objects === null) return null;
    return {
      envelope: b.toString('utf8', 0, objects.start + 1) + b.toString('utf8', objects.end - 1),
      elements: objects.elements,
    };
  } catch (err) {
    if (err instanceof NotABundle || err instanceof SyntaxError) return null;
    throw err;
  }
}
