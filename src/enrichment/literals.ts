import { RegExpParser, type AST } from '@eslint-community/regexpp';

/**
 * Literal strings that every match of a pattern contains (one of them at least), lower-cased:
 * the pattern library's prefilter. A field that contains none of them cannot match, so the
 * expression is not run on it — most of the library's several hundred expressions are about words
 * that an item does not hold. `null` when the expression requires nothing useful (then it always
 * runs).
 */
export function requiredLiterals(source: string): string[] | null {
  const need = alternatives(new RegExpParser().parsePattern(source).alternatives);
  return need && quality(need) >= MIN_LITERAL ? need : null;
}

/**
 * The patterns' literals indexed by their first three characters: one pass over a field finds
 * every pattern whose literal it contains (a thousand `includes` per field cost more than the
 * expressions they spared).
 */
export class LiteralIndex {
  private readonly index = new Map<number, Array<{ pattern: number; literal: string }>>();
  /** Patterns that require nothing: always run. */
  private readonly always: number[] = [];

  constructor(size: number, literals: (i: number) => string[] | null) {
    for (let i = 0; i < size; i++) {
      const need = literals(i);
      if (!need) {
        this.always.push(i);
        continue;
      }
      for (const literal of need) {
        const key = trigram(literal, 0);
        const list = this.index.get(key);
        if (list) list.push({ pattern: i, literal });
        else this.index.set(key, [{ pattern: i, literal }]);
      }
    }
  }

  /**
   * The patterns that may match the lower-cased text, in library order; `seen` (one slot per
   * pattern, zeroed) is scratch space.
   */
  candidates(lower: string, seen: Uint8Array): number[] {
    const out = [...this.always];
    for (const i of out) seen[i] = 1;
    for (let at = 0; at + 3 <= lower.length; at++) {
      const list = this.index.get(trigram(lower, at));
      if (!list) continue;
      for (const { pattern, literal } of list) {
        if (!seen[pattern] && lower.startsWith(literal, at)) {
          seen[pattern] = 1;
          out.push(pattern);
        }
      }
    }
    return out.sort((a, b) => a - b);
  }
}

/** Three characters as one number (UTF-16 units: a non-ASCII unit never equals a literal's). */
function trigram(s: string, at: number): number {
  return s.charCodeAt(at) * 0x100000000 + s.charCodeAt(at + 1) * 0x10000 + s.charCodeAt(at + 2);
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
 * A sequence needs each of its mandatory parts: keep the most selective one. Adjacent literal
 * characters form one string, and a group of literal alternatives multiplies it (`\.(exe|js)`
 * contains `.exe` or `.js`); zero-width assertions (`\b`, lookarounds) do not break it. A
 * repeated character ends one string and starts the next (`xa+b` contains `xa` and `ab`).
 */
function sequence(elements: AST.Element[]): Need {
  let best: Need = null;
  // The strings one of which the text holds contiguously here.
  let run: string[] = [''];
  const consider = (need: Need) => {
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
