import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { packageRoot } from '../shared/paths';
import { LiteralIndex, requiredLiterals } from './literals';

export const STRENGTHS = { strong: 1, medium: 0.6, weak: 0.3 } as const;
export type Strength = keyof typeof STRENGTHS;

const patternSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/),
    technique: z.string().regex(/^T\d{4}(\.\d{3})?$/),
    regex: z.string().min(1),
    strength: z.enum(['strong', 'medium', 'weak']),
    case: z.boolean().optional(),
    fields: z.array(z.string()).optional(),
    examples: z.array(z.string()).min(1),
    counter: z.array(z.string()).default([]),
  })
  .strict();

const fileSchema = z.object({ version: z.number().int(), patterns: z.array(patternSchema) });

export type PatternSpec = z.infer<typeof patternSchema>;

export interface Pattern extends PatternSpec {
  re: RegExp;
  /** A match contains one of these (lower-cased); null when nothing is required. */
  literals: string[] | null;
}

export interface PatternLibrary {
  version: number;
  /** A hash of the file's bytes: weights fitted with one library are not reused with another. */
  digest: string;
  patterns: Pattern[];
  /** Which patterns a field may match, from their literals: the others are not run. */
  prefilter: LiteralIndex;
}

export const PATTERNS_FILE = path.join(packageRoot(), 'enrichment', 'patterns.yaml');

/** The versioned pattern library (enrichment/patterns.yaml), each expression compiled once. */
export function loadPatterns(file = PATTERNS_FILE): PatternLibrary {
  const bytes = readFileSync(file);
  const parsed = fileSchema.parse(parse(bytes.toString('utf8')));
  const ids = new Set<string>();
  const patterns = parsed.patterns.map((p) => {
    if (ids.has(p.id)) throw new Error(`${file}: pattern id ${p.id} appears twice`);
    ids.add(p.id);
    const source = boundGaps(p.regex);
    return {
      ...p,
      re: new RegExp(source, p.case ? 'm' : 'im'),
      literals: requiredLiterals(source),
    };
  });
  const prefilter = new LiteralIndex(patterns.length, (i) => patterns[i]?.literals ?? null);
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  return { version: parsed.version, digest, patterns, prefilter };
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
    const seen = new Uint8Array(lib.patterns.length);
    for (const i of lib.prefilter.candidates(text.toLowerCase(), seen)) {
      const p = lib.patterns[i] as Pattern;
      if (done[i] || (p.fields && !p.fields.includes(field))) continue;
      const m = p.re.exec(text);
      if (m) {
        done[i] = 1;
        hits.push({ pattern: p, field, match: m[0].slice(0, 120), at: i });
      }
    }
  }
  // In library order, as without the prefilter.
  return hits.sort((a, b) => a.at - b.at).map(({ at: _at, ...hit }) => hit);
}
