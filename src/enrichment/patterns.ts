import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { packageRoot } from '../shared/paths';
import { branchesOf, LiteralIndex, type Branch } from './literals';

export const STRENGTHS = { strong: 1, medium: 0.6, weak: 0.3 } as const;
export type Strength = keyof typeof STRENGTHS;

const patternSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/),
    technique: z.string().regex(/^T\d{4}(\.\d{3})?$/),
    // A control character is an editing slip (a `\b` read as a backspace), never an artefact.
    regex: z
      .string()
      .min(1)
      .refine(
        (r) => ![...r].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
        'holds a control character',
      ),
    strength: z.enum(['strong', 'medium', 'weak']),
    case: z.boolean().optional(),
    fields: z.array(z.string()).optional(),
    examples: z.array(z.string()).min(1),
    counter: z.array(z.string()).default([]),
    /** More specific patterns this one gives way to where both match on one line. */
    yields_to: z.array(z.string()).default([]),
    /**
     * The pattern matches texts listing several ways (sub-techniques) of its technique: where it
     * matches, the technique answers rather than one of the ways it lists.
     */
    lists: z.boolean().default(false),
  })
  .strict()
  .refine((p) => !p.lists || !p.technique.includes('.'), {
    message: 'only a technique with sub-techniques lists them',
    path: ['lists'],
  });

const fileSchema = z.object({ version: z.number().int(), patterns: z.array(patternSchema) });

export type PatternSpec = z.infer<typeof patternSchema>;

export interface Pattern extends PatternSpec {
  re: RegExp;
  /** The expression's top-level alternatives, each with the literals its matches contain. */
  branches: Branch[];
  /** The patterns of `yields_to`, resolved. */
  yieldsTo: Pattern[];
  /** The expression with the global flag, to walk every match (only for a pattern that yields). */
  everyMatch: RegExp | null;
  /** The expression cut to some of its branches (by their positions), compiled when first needed. */
  narrowed: Map<string, Expressions>;
}

interface Expressions {
  re: RegExp;
  everyMatch: RegExp | null;
}

export interface PatternLibrary {
  version: number;
  /** A hash of the file's bytes: weights fitted with one library are not reused with another. */
  digest: string;
  patterns: Pattern[];
  /** Which branches of which patterns a field may match, from their literals: the others are not run. */
  prefilter: BranchIndex;
}

export const PATTERNS_FILE = path.join(packageRoot(), 'enrichment', 'patterns.yaml');

/** The versioned pattern library (enrichment/patterns.yaml), each expression compiled once. */
export function loadPatterns(file = PATTERNS_FILE): PatternLibrary {
  const bytes = readFileSync(file);
  const parsed = fileSchema.parse(parse(bytes.toString('utf8')));
  const byId = new Map<string, Pattern>();
  const patterns = parsed.patterns.map((p) => {
    if (byId.has(p.id)) throw new Error(`${file}: pattern id ${p.id} appears twice`);
    const source = boundGaps(p.regex);
    let branches: Branch[];
    try {
      branches = branchesOf(source);
    } catch (err) {
      throw new Error(`${file}: ${p.id}: ${(err as Error).message}`);
    }
    const pattern: Pattern = {
      ...p,
      ...compiled(p, source),
      branches,
      yieldsTo: [],
      narrowed: new Map(),
    };
    byId.set(p.id, pattern);
    return pattern;
  });
  for (const p of patterns) {
    if (new Set(p.yields_to).size !== p.yields_to.length)
      throw new Error(`${file}: ${p.id} names a pattern twice in yields_to`);
    p.yieldsTo = p.yields_to.map((id) => {
      const to = byId.get(id);
      if (!to || to === p) throw new Error(`${file}: ${p.id} yields to ${id}, not another pattern`);
      return to;
    });
  }
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  return { version: parsed.version, digest, patterns, prefilter: new BranchIndex(patterns) };
}

function compiled(p: PatternSpec, source: string): Expressions {
  return {
    re: new RegExp(source, p.case ? 'm' : 'im'),
    everyMatch: p.yields_to.length > 0 ? new RegExp(source, p.case ? 'gm' : 'gim') : null,
  };
}

/**
 * The prefilter over every pattern's branches: the literal index's entries are the branches in
 * library order. `always` keeps every branch from waiting for its literal (what running every
 * expression would find).
 */
export class BranchIndex {
  private readonly literals: LiteralIndex;
  /** Per entry, its pattern; per pattern, its first entry. */
  private readonly owner: Int32Array;
  private readonly firstBranch: Int32Array;

  constructor(patterns: Pattern[], always = false) {
    const owner: number[] = [];
    const branches: Branch[] = [];
    this.firstBranch = new Int32Array(patterns.length);
    patterns.forEach((p, i) => {
      this.firstBranch[i] = owner.length;
      for (const b of p.branches) {
        owner.push(i);
        branches.push(b);
      }
    });
    this.owner = Int32Array.from(owner);
    this.literals = new LiteralIndex(owner.length, (e) => (always ? null : (branches[e] ?? null)));
  }

  /** Each pattern the lower-cased text may match (library order) and the branches it may match. */
  candidates(lower: string): Array<{ pattern: number; branches: number[] }> {
    const out: Array<{ pattern: number; branches: number[] }> = [];
    for (const e of this.literals.candidates(lower)) {
      const pattern = this.owner[e] as number;
      const branch = e - (this.firstBranch[pattern] as number);
      const last = out[out.length - 1];
      if (last?.pattern === pattern) last.branches.push(branch);
      else out.push({ pattern, branches: [branch] });
    }
    return out;
  }
}

/**
 * Every unbounded gap (`.*`) of a pattern becomes `.{0,GAP}`: an artefact's parts stand close
 * together, and two or three unbounded gaps let a crafted field make an expression backtrack for
 * the cube of its length (a 4 KB field took 120 ms in one expression).
 */
const GAP = 200;
export function boundGaps(regex: string): string {
  return regex.replace(/(?<!\\)\.\*(?!\?)/g, `.{0,${GAP}}`);
}

/** How much of a field the patterns read (the text model reads it all). */
const PATTERN_FIELD_CHARS = 2_000;

export interface PatternHit {
  pattern: Pattern;
  field: string;
  match: string;
}

/** Every pattern that matches a field of the item (each pattern once, at its first field). */
export function matchPatterns(lib: PatternLibrary, fields: Array<[string, string]>): PatternHit[] {
  const hits: Array<PatternHit & { at: number }> = [];
  const done = new Uint8Array(lib.patterns.length);
  for (const [field, value] of fields) {
    // Long fields are cut: a pathological input must not make an expression crawl.
    const text = value.length > PATTERN_FIELD_CHARS ? value.slice(0, PATTERN_FIELD_CHARS) : value;
    for (const { pattern: i, branches } of lib.prefilter.candidates(text.toLowerCase())) {
      const p = lib.patterns[i] as Pattern;
      if (done[i] || (p.fields && !p.fields.includes(field))) continue;
      const m = firstStanding(p, narrowed(p, branches), field, text);
      if (m) {
        done[i] = 1;
        hits.push({ pattern: p, field, match: m.slice(0, 120), at: i });
      }
    }
  }
  // In library order, as without the prefilter.
  return hits.sort((a, b) => a.at - b.at).map(({ at: _at, ...hit }) => hit);
}

/**
 * The pattern's first match on a line where none of the patterns it yields to matches: a generic
 * artefact (rundll32, mimikatz, reg query) gives way to the specific one it is part of
 * (comsvcs MiniDump, lsadump::sam, the Uninstall key), which answers the technique instead.
 */
function firstStanding(p: Pattern, x: Expressions, field: string, text: string): string | null {
  const over = p.yieldsTo.filter((to) => !to.fields || to.fields.includes(field));
  const all = x.everyMatch;
  if (over.length === 0 || !all) return x.re.exec(text)?.[0] ?? null;
  all.lastIndex = 0;
  for (let m = all.exec(text); m; m = all.exec(text)) {
    const start = text.lastIndexOf('\n', m.index) + 1;
    const end = text.indexOf('\n', m.index + m[0].length);
    const line = text.slice(start, end < 0 ? undefined : end);
    if (!over.some((to) => to.re.test(line))) return m[0];
    if (m[0].length === 0) all.lastIndex++;
  }
  return null;
}

/** Beyond this many branch combinations per pattern, the rest run the whole expression. */
const MAX_NARROWED = 32;

/**
 * The pattern's expression with only the branches whose literal the text holds: the same first
 * match (and the same sequence of matches) as the whole expression, since the branches left out
 * cannot match, at a fraction of the cost on a long alternation.
 */
function narrowed(p: Pattern, present: number[]): Expressions {
  if (present.length === p.branches.length) return p;
  const key = present.join(',');
  let x = p.narrowed.get(key);
  if (!x) {
    if (p.narrowed.size >= MAX_NARROWED) return p;
    x = compiled(p, present.map((b) => (p.branches[b] as Branch).source).join('|'));
    p.narrowed.set(key, x);
  }
  return x;
}
