import { RegExpParser, visitRegExpAST, type AST } from '@eslint-community/regexpp';

/**
 * One alternative of an expression's top level, and the literal strings (lower-cased) that every
 * one of its matches contains: the pattern library's prefilter. A field that holds none of
 * `literals` cannot match, so the branch is not run on it — most of the library's expressions are
 * about words that an item does not hold. `literals` is the most selective of the branch's
 * requirements (null when it requires nothing useful: then it always runs), `also` the others,
 * checked once that one is found (`\bspoof\w*.{0,30}\bemail` needs `spoof`, then `email`).
 */
export interface Branch {
  source: string;
  literals: string[] | null;
  also: string[][];
}

/**
 * The top-level alternatives of an expression, each with its own required literals: a text that
 * holds the literal of one branch of twenty need not run the other nineteen. A numbered
 * backreference would point elsewhere once the branches stand apart: those are refused (a named
 * one, `\k<name>`, stays within its branch).
 */
export function branchesOf(source: string): Branch[] {
  const pattern = new RegExpParser().parsePattern(source);
  visitRegExpAST(pattern, {
    onBackreferenceEnter(b) {
      if (typeof b.ref === 'number') {
        throw new Error(`numbered backreference ${b.raw}: name the group and use \\k<name>`);
      }
    },
  });
  return pattern.alternatives.map((a) => {
    const every: string[][] = [];
    const need = sequence(a.elements, every);
    const literals = need && quality(need) >= MIN_LITERAL ? need : null;
    // The other usable requirements, each once.
    const also = new Map<string, string[]>();
    for (const n of literals ? every : []) {
      if (quality(n) >= MIN_LITERAL) also.set(n.join('|'), n);
    }
    also.delete((literals ?? []).join('|'));
    return { source: a.raw, literals, also: [...also.values()] };
  });
}

/**
 * Literals indexed by their first characters (three for a literal of three, four for a longer
 * one): one pass over a field finds every entry (a pattern's branch) whose literals it contains (a
 * thousand `includes` per field cost more than the expressions they spared). An entry waits for
 * one of its own literals; once one is found, each of its further lists must have a literal found.
 */
export class LiteralIndex {
  private readonly short = new Keyed();
  private readonly long = new Keyed();
  /** Entries that require nothing: always run. */
  private readonly always: number[] = [];
  /** Per distinct literal, the entries that wait for it. */
  private readonly waiting: number[][] = [];
  /** Per entry, its further requirements: lists of literals, one of each to be found. */
  private readonly also: number[][][] = [];
  /** Scratch, cleared after each call: the literals the text holds, the entries proposed. */
  private readonly found: Uint8Array;
  private readonly proposed: Uint8Array;

  constructor(size: number, literals: (i: number) => Pick<Branch, 'literals' | 'also'> | null) {
    const ids = new Map<string, number>();
    const id = (literal: string): number => {
      let n = ids.get(literal);
      if (n === undefined) {
        n = ids.size;
        ids.set(literal, n);
        this.waiting.push([]);
        (literal.length >= 4 ? this.long : this.short).add(literal, n);
      }
      return n;
    };
    for (let i = 0; i < size; i++) {
      const branch = literals(i);
      this.also.push((branch?.literals ? branch.also : []).map((list) => list.map(id)));
      if (!branch?.literals) this.always.push(i);
      else for (const literal of branch.literals) this.waiting[id(literal)]?.push(i);
    }
    this.short.seal();
    this.long.seal();
    this.found = new Uint8Array(ids.size);
    this.proposed = new Uint8Array(size);
  }

  /** The entries that may match the lower-cased text, in ascending order. */
  candidates(lower: string): number[] {
    const found: number[] = [];
    // The last four ASCII characters as one integer (7 bits each), `run` of them since a non-ASCII.
    let key = 0;
    let run = 0;
    for (let i = 0; i < lower.length; i++) {
      const c = lower.charCodeAt(i);
      if (c >= 128) {
        run = 0;
        continue;
      }
      key = ((key << 7) | c) & 0xfffffff;
      run++;
      if (run >= 3) this.short.visit(key & 0x1fffff, lower, i - 2, this.found, found);
      if (run >= 4) this.long.visit(key, lower, i - 3, this.found, found);
    }
    const proposed: number[] = [];
    for (const l of found) {
      for (const e of this.waiting[l] as number[]) {
        if (this.proposed[e] === 0) {
          this.proposed[e] = 1;
          proposed.push(e);
        }
      }
    }
    const out = [...this.always];
    for (const e of proposed) {
      this.proposed[e] = 0;
      if ((this.also[e] as number[][]).every((list) => list.some((l) => this.found[l] === 1))) {
        out.push(e);
      }
    }
    for (const l of found) this.found[l] = 0;
    return out.sort((x, y) => x - y);
  }
}

/**
 * Literals by a key of their first three or four characters, in a hash table laid out flat
 * (bucket by bucket) so that a position of the text costs one read of a small bitmap when no
 * literal starts there, and the literals' characters stand in one array: within enrich, between
 * two items, the rest of the engine pushes the table out of the cache, and a read of scattered
 * strings and a large table per position made the prefilter three times slower than alone.
 */
class Keyed {
  private readonly pending: Array<{ key: number; id: number; literal: string }> = [];
  /** Bucket h holds entries start[h] to start[h + 1] - 1. */
  private start = new Int32Array(BUCKETS + 1);
  /** Bit h set when bucket h holds an entry (8 KB: stays in the cache). */
  private occupied = new Int32Array(BUCKETS >>> 5);
  private keys = new Int32Array(0);
  private ids = new Int32Array(0);
  /** Entry j's literal is chars[from[j]] to chars[from[j + 1] - 1]. */
  private chars = new Uint16Array(0);
  private from = new Int32Array(1);

  add(literal: string, id: number): void {
    let key = 0;
    for (let k = 0; k < Math.min(4, literal.length); k++) key = (key << 7) | literal.charCodeAt(k);
    this.pending.push({ key, id, literal });
  }

  /** Lays the table out once every literal is added. */
  seal(): void {
    const entries = this.pending.sort((x, y) => bucket(x.key) - bucket(y.key) || x.id - y.id);
    this.keys = Int32Array.from(entries, (e) => e.key);
    this.ids = Int32Array.from(entries, (e) => e.id);
    const joined = entries.map((e) => e.literal).join('');
    this.chars = new Uint16Array(joined.length);
    for (let k = 0; k < joined.length; k++) this.chars[k] = joined.charCodeAt(k);
    this.from = new Int32Array(entries.length + 1);
    entries.forEach((e, j) => {
      this.from[j + 1] = (this.from[j] as number) + e.literal.length;
    });
    this.start = new Int32Array(BUCKETS + 1);
    this.occupied = new Int32Array(BUCKETS >>> 5);
    for (const e of entries) {
      const h = bucket(e.key);
      this.start[h + 1] = (this.start[h + 1] as number) + 1;
      this.occupied[h >>> 5] = (this.occupied[h >>> 5] as number) | (1 << (h & 31));
    }
    for (let h = 0; h < BUCKETS; h++) {
      this.start[h + 1] = (this.start[h + 1] as number) + (this.start[h] as number);
    }
    // The literals live on in `chars` only.
    this.pending.length = 0;
  }

  /**
   * Marks in `found` (and lists in `out`) the literals that stand at `at`, whose first characters
   * make `key` (so only the rest is compared).
   */
  visit(key: number, lower: string, at: number, found: Uint8Array, out: number[]): void {
    const h = bucket(key);
    if (((this.occupied[h >>> 5] as number) & (1 << (h & 31))) === 0) return;
    const end = this.start[h + 1] as number;
    for (let j = this.start[h] as number; j < end; j++) {
      const id = this.ids[j] as number;
      if (this.keys[j] !== key || found[id] === 1) continue;
      const first = this.from[j] as number;
      const length = (this.from[j + 1] as number) - first;
      if (at + length > lower.length) continue;
      let k = Math.min(4, length);
      while (k < length && lower.charCodeAt(at + k) === this.chars[first + k]) k++;
      if (k === length) {
        found[id] = 1;
        out.push(id);
      }
    }
  }
}

const BUCKETS = 1 << 16;

function bucket(key: number): number {
  return (key ^ (key >>> 11) ^ (key >>> 17)) & (BUCKETS - 1);
}

/** Shorter literals are in almost every text: filtering on them would only cost. */
const MIN_LITERAL = 3;

/**
 * Words that most alert and ATT&CK texts hold, however long: a literal that is one of them filters
 * little, so it ranks with the shortest usable ones and any more specific literal of the
 * expression is preferred (`(connect|traffic).{0,30}\bport` waits for `port`).
 */
const COMMON_WORDS = new Set(
  (
    'access and by collect command commands connect connection connections create data detects ' +
    'execute file files for from gather group groups http https in local network of on over ' +
    'process processes remote request requests script search server service services software ' +
    'system target the to traffic user users using via victim windows with'
  ).split(' '),
);

type Need = string[] | null;

function selectivity(literal: string): number {
  const word = literal.replace(/[^a-z]+/g, '');
  return COMMON_WORDS.has(word) ? Math.min(literal.length, MIN_LITERAL) : literal.length;
}

function quality(n: Need): number {
  return n && n.length > 0 ? Math.min(...n.map(selectivity)) : 0;
}

/** A disjunction needs one of what each of its branches needs (nothing, if one needs nothing). */
function alternatives(alts: AST.Alternative[]): Need {
  const out = new Set<string>();
  for (const a of alts) {
    const need = sequence(a.elements);
    if (!need) return null;
    for (const s of need) out.add(s);
  }
  return [...out];
}

/**
 * A sequence needs each of its mandatory parts: keep the most selective one (and push each to
 * `every`). Adjacent literal characters form one string, and a group of literal alternatives
 * multiplies it (`\.(exe|js)` contains `.exe` or `.js`); zero-width assertions (`\b`,
 * lookarounds) do not break it. A repeated character ends one string and starts the next
 * (`xa+b` contains `xa` and `ab`).
 */
function sequence(elements: AST.Element[], every?: string[][]): Need {
  let best: Need = null;
  // The strings one of which the text holds contiguously here.
  let run: string[] = [''];
  const consider = (need: Need) => {
    if (need && need.length > 0) every?.push(need);
    if (quality(need) > quality(best)) best = need;
  };
  const flush = () => {
    consider([...new Set(run)]);
    run = [''];
  };
  for (const e of elements) {
    const ch = literal(e);
    if (ch !== null) {
      run = run.map((s) => s + ch);
      continue;
    }
    if (e.type === 'Assertion') continue;
    const options = literalOptions(e);
    if (options && options.length * run.length <= MAX_OPTIONS) {
      run = run.flatMap((s) => options.map((o) => s + o));
      continue;
    }
    if (e.type === 'Quantifier' && e.min >= 1) {
      const repeated = literal(e.element);
      if (repeated !== null) {
        run = run.map((s) => s + repeated);
        flush();
        run = [repeated];
        continue;
      }
      flush();
      consider(element(e.element));
      continue;
    }
    flush();
    consider(element(e));
  }
  flush();
  return best;
}

/** Beyond this many strings a group's alternatives are kept apart rather than multiplied. */
const MAX_OPTIONS = 64;

/**
 * A group whose every alternative is literal characters only (zero-width assertions aside, as in
 * a sequence): those strings, else null.
 */
function literalOptions(e: AST.Element): string[] | null {
  if (e.type !== 'Group' && e.type !== 'CapturingGroup') return null;
  const out: string[] = [];
  for (const a of e.alternatives) {
    let s = '';
    for (const x of a.elements) {
      if (x.type === 'Assertion') continue;
      const ch = literal(x);
      if (ch === null) return null;
      s += ch;
    }
    out.push(s);
  }
  return out;
}

function element(e: AST.Element | AST.QuantifiableElement): Need {
  if (e.type === 'Group' || e.type === 'CapturingGroup') return alternatives(e.alternatives);
  return null;
}

/** The one ASCII character an element always matches (lower-cased), or null. */
function literal(e: AST.Element): string | null {
  if (e.type === 'Character') return ascii(e.value);
  if (e.type === 'CharacterClass' && !e.negate && e.elements.length === 1) {
    const only = e.elements[0];
    if (only?.type === 'Character') return ascii(only.value);
  }
  return null;
}

function ascii(code: number): string | null {
  return code < 128 ? String.fromCharCode(code).toLowerCase() : null;
}
