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
    const also = literals
      ? every.filter((n) => n.join('|') !== literals.join('|') && quality(n) >= MIN_LITERAL)
      : [];
    return {
      source: a.raw,
      literals,
      also: [...new Map(also.map((n) => [n.join('|'), n])).values()],
    };
  });
}

/**
 * Literals indexed by their first characters (three for a literal of three, four for a longer
 * one): one pass over a field finds every entry (a pattern's branch) whose literals it contains (a
 * thousand `includes` per field cost more than the expressions they spared). Each list of
 * alternatives an entry needs is one requirement; an entry qualifies when all of its own are met.
 */
export class LiteralIndex {
  private readonly short = new Keyed();
  private readonly long = new Keyed();
  /** Entries that require nothing: always run. */
  private readonly always: number[] = [];
  /** Per distinct literal, the requirements it meets. */
  private readonly meets: number[][] = [];
  /** Per requirement, the entry it belongs to; an entry's first requirement is the one waited for. */
  private readonly owner: number[] = [];
  private readonly first: boolean[] = [];
  /** Per entry, its requirements. */
  private readonly needs: number[][] = [];
  /** Scratch: the literals the text holds and the requirements it meets (cleared after each call). */
  private found = new Uint8Array(0);
  private met = new Uint8Array(0);

  constructor(size: number, literals: (i: number) => Pick<Branch, 'literals' | 'also'> | null) {
    const ids = new Map<string, number>();
    for (let i = 0; i < size; i++) {
      const branch = literals(i);
      const reqs: number[] = [];
      this.needs.push(reqs);
      if (!branch?.literals) {
        this.always.push(i);
        continue;
      }
      for (const list of [branch.literals, ...branch.also]) {
        const req = this.owner.length;
        this.owner.push(i);
        this.first.push(reqs.length === 0);
        reqs.push(req);
        for (const literal of list) {
          let id = ids.get(literal);
          if (id === undefined) {
            id = ids.size;
            ids.set(literal, id);
            this.meets.push([]);
            const key = prefixKey(literal, 0, Math.min(4, literal.length));
            (literal.length >= 4 ? this.long : this.short).add(key, id, literal);
          }
          this.meets[id]?.push(req);
        }
      }
    }
    this.short.seal();
    this.long.seal();
    this.found = new Uint8Array(ids.size);
    this.met = new Uint8Array(this.owner.length);
  }

  /** The entries that may match the lower-cased text, in ascending order. */
  candidates(lower: string): number[] {
    const found: number[] = [];
    for (let at = 0; at + 3 <= lower.length; at++) {
      const three = prefixKey(lower, at, 3);
      if (three < 0) continue;
      this.short.visit(three, lower, at, this.found, found);
      if (at + 4 > lower.length) continue;
      const d = lower.charCodeAt(at + 3);
      if (d < 128) this.long.visit((three << 7) | d, lower, at, this.found, found);
    }
    const met: number[] = [];
    for (const id of found) {
      this.found[id] = 0;
      for (const req of this.meets[id] as number[]) {
        if (this.met[req] === 0) {
          this.met[req] = 1;
          met.push(req);
        }
      }
    }
    const out = [...this.always];
    for (const req of met) {
      if (!this.first[req]) continue;
      const entry = this.owner[req] as number;
      if ((this.needs[entry] as number[]).every((r) => this.met[r] === 1)) out.push(entry);
    }
    for (const req of met) this.met[req] = 0;
    return out.sort((a, b) => a - b);
  }
}

/**
 * Literals by a key of their first characters, in a hash table laid out flat (bucket by bucket)
 * so that a position of the text costs one typed-array read when no literal starts there.
 */
class Keyed {
  private readonly pending: Array<{ key: number; id: number; literal: string }> = [];
  /** Bucket h holds entries start[h] to start[h + 1] - 1. */
  private start = new Int32Array(BUCKETS + 1);
  private keys = new Int32Array(0);
  private ids = new Int32Array(0);
  private literals: string[] = [];

  add(key: number, id: number, literal: string): void {
    this.pending.push({ key, id, literal });
  }

  /** Lays the table out once every literal is added. */
  seal(): void {
    const entries = this.pending.sort((x, y) => bucket(x.key) - bucket(y.key) || x.id - y.id);
    this.keys = Int32Array.from(entries, (e) => e.key);
    this.ids = Int32Array.from(entries, (e) => e.id);
    this.literals = entries.map((e) => e.literal);
    this.start = new Int32Array(BUCKETS + 1);
    for (const e of entries) {
      const h = bucket(e.key) + 1;
      this.start[h] = (this.start[h] as number) + 1;
    }
    for (let h = 0; h < BUCKETS; h++) {
      this.start[h + 1] = (this.start[h + 1] as number) + (this.start[h] as number);
    }
  }

  /** Marks in `found` (and lists in `out`) the literals that stand at `at`. */
  visit(key: number, lower: string, at: number, found: Uint8Array, out: number[]): void {
    const h = bucket(key);
    const end = this.start[h + 1] as number;
    for (let j = this.start[h] as number; j < end; j++) {
      const id = this.ids[j] as number;
      if (
        this.keys[j] === key &&
        found[id] === 0 &&
        lower.startsWith(this.literals[j] as string, at)
      ) {
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

/**
 * `n` (3 or 4) ASCII characters from `at` as one small integer; -1 when one is not ASCII (a literal
 * never holds one: `ascii` keeps them out).
 */
function prefixKey(s: string, at: number, n: number): number {
  let key = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(at + k);
    if (c >= 128) return -1;
    key = (key << 7) | c;
  }
  return key;
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
 * A sequence needs each of its mandatory parts: keep the most selective one (and each in `every`). Adjacent literal
 * characters form one string, and a group of literal alternatives multiplies it (`\.(exe|js)`
 * contains `.exe` or `.js`); zero-width assertions (`\b`, lookarounds) do not break it. A
 * repeated character ends one string and starts the next (`xa+b` contains `xa` and `ab`).
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
