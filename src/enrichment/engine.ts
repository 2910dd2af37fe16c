import { fraction } from '../shared/fraction';
import { Combiner, logistic, logit } from './combiner';
import type { Corpus, TechniqueDoc } from './corpus';
import { matchPatterns, STRENGTHS, type PatternLibrary } from './patterns';
import {
  asWritten,
  featuresOf,
  isTerm,
  stripMarkup,
  terms,
  unescapedPaths,
  untemplated,
} from './text';
import { TextModel } from './text-model';

/** What an analyzer sends: any of these fields; `text`, `title` and `description` are free text. */
export interface EnrichItem {
  id?: string;
  text?: string;
  title?: string;
  description?: string;
  command_line?: string;
  process_name?: string;
  file_path?: string;
  registry_path?: string;
  url?: string;
  tags?: string[];
  observable_type?: string;
  observable_value?: string;
}

export type Signal = 'id' | 'tag' | 'name' | 'software' | 'group' | 'pattern' | 'text';

/** Why a technique was suggested: which signal matched what, in which field. */
export interface Evidence {
  signal: Signal;
  field: string;
  match: string;
  /** The pattern id, the software or group, the revoked id resolved, the text model's terms. */
  detail?: string;
}

export interface Suggestion {
  technique: string;
  name: string;
  /** Calibrated: of the suggestions given this confidence, about this share is right. */
  confidence: number;
  tactics: string[];
  evidence: Evidence[];
}

export interface EnrichOptions {
  topK?: number;
  minConfidence?: number;
}

interface TechniqueInfo {
  id: string;
  name: string;
  tactics: string[];
  parent: string | null;
  children: string[];
  prior: number;
}

interface Actor {
  name: string;
  kind: 'software' | 'group';
  /** The techniques it uses, revoked ids resolved (unknown ones left out), read per name match. */
  techniques: string[];
  /** 1/√(techniques it uses): a software or group that uses many says little of each. */
  weight: number;
  /** Whether it proposes its techniques or only supports candidates found otherwise. */
  proposes: boolean;
}

/** What a sequence of terms names, and whether a longer name starts with it. */
interface NameEntry {
  techniques: string[];
  actors: Actor[];
  longer: boolean;
}

/** Signals of one candidate technique for one item. */
interface Candidate {
  id: string;
  text: { z: number; gap: number; top: boolean } | null;
  name: number;
  nameChild: number;
  nameParent: number;
  /** The strongest pattern that named it (1 strong, 0.6 medium, 0.3 weak; 0 none). */
  pattern: number;
  /** How many patterns named it. */
  patternHits: number;
  /** A pattern listing several of its sub-techniques named it (`lists` in the library). */
  lists: boolean;
  patternFamily: number;
  actor: number;
  /** Among the text model's best three: its text evidence is written when it is answered. */
  textTop3: boolean;
  evidence: Evidence[];
}

const FEATURES = [
  'bias',
  'text_z',
  'text_gap',
  'text_top',
  'text_missing',
  'prior',
  'name',
  'name_child',
  'name_parent',
  'pattern_strong',
  'pattern_medium',
  'pattern_weak',
  'pattern_hits',
  'pattern_family',
  'actor',
  'is_sub',
] as const;

/** How many of the text model's best classes become candidates. */
const TEXT_CANDIDATES = 15;
/** Techniques named by their ATT&CK id (or a tag of it) are taken as given. */
const EXPLICIT_CONFIDENCE = 0.98;
const MAX_NAME_TERMS = 6;
/** A software or group using at most this many techniques makes each of them a candidate. */
const ACTOR_PROPOSES = 5;
const FREE_TEXT_FIELDS = ['text', 'title', 'description'] as const;
const ARTEFACT_FIELDS = [
  'command_line',
  'process_name',
  'file_path',
  'registry_path',
  'url',
  'observable_value',
] as const;

/** The ATT&CK links inside procedure text name the actor whose relationship it is: left out. */
function procedureText(text: string): string {
  return stripMarkup(text.replace(/\[[^\]]{1,200}\]\(https:\/\/attack\.mitre\.org\/[^)]*\)/g, ''));
}

/**
 * The text model's training documents: each technique's own text, the procedures and detections
 * kept, and the pattern library's examples (artefacts written for a technique).
 */
function trainingDocs(
  techniques: TechniqueDoc[],
  patterns: PatternLibrary,
  keep: (source: string) => boolean,
) {
  const docs: Array<{ label: string; text: string; weight?: number }> = [];
  for (const p of patterns.patterns) {
    p.examples.forEach((text, n) => {
      if (keep(exampleSource(p.id, n))) docs.push({ label: p.technique, text });
    });
  }
  for (const t of techniques) {
    docs.push({ label: t.attackId, text: t.name, weight: 3 });
    docs.push({ label: t.attackId, text: stripMarkup(`${t.description} ${t.detection}`) });
    for (const d of t.detections) {
      if (keep(detectionSource(d))) docs.push({ label: t.attackId, text: d });
    }
    for (const p of t.procedures) {
      if (keep(p.source)) docs.push({ label: t.attackId, text: procedureText(p.text) });
    }
  }
  return docs;
}

/** A pattern example's source, as `exclude` names it (the combiner holds half of them out). */
function exampleSource(id: string, i: number): string {
  return `pattern:${id}|${i}`;
}

/**
 * A detection text's source, as `exclude` names it: its detection strategy (the text starts with
 * the strategy's name), so that a benchmark can hold a strategy's analytics out of training.
 */
export function detectionSource(text: string): string {
  const end = text.indexOf('. ');
  return `detection:${end < 0 ? text : text.slice(0, end)}`;
}

export interface BuildOptions {
  /**
   * Sources never learnt from (a benchmark's held-out part): procedure sources (groups, software,
   * campaigns) by STIX id, detection strategies as `detectionSource` names them.
   */
  exclude?: Set<string>;
  /** Items per fold the combiner is fitted on (cross-fitted on two folds of the actors). */
  combinerSample?: number;
  /** The combiner's weights as fitted before on the same data (persisted): not fitted again. */
  weights?: number[];
}

/**
 * The enrichment engine: explicit ids and tags, names of techniques, software and groups, the
 * artefact patterns and a text model learnt from ATT&CK's own text, combined by a conditional
 * logit fitted on procedure examples, analytics and artefacts the text model did not see.
 * Deterministic: the same corpus and input always give the same answer.
 */
export class EnrichmentEngine {
  private constructor(
    private readonly techniques: Map<string, TechniqueInfo>,
    private readonly revoked: Map<string, string>,
    private readonly tactics: Map<string, string>,
    /** Names (and leading parts of names) as terms joined by spaces: one lookup per sequence. */
    private readonly lexicon: Map<string, NameEntry>,
    private readonly patterns: PatternLibrary,
    private readonly model: TextModel,
    private combiner: Combiner,
  ) {}

  static build(
    corpus: Corpus,
    patterns: PatternLibrary,
    opts: BuildOptions = {},
  ): EnrichmentEngine {
    const exclude = opts.exclude ?? new Set<string>();
    const engine = EnrichmentEngine.assemble(corpus, patterns, exclude);
    const kept = opts.weights;
    engine.combiner =
      kept?.length === FEATURES.length + 2
        ? new Combiner(kept.slice(0, FEATURES.length)).withCalibration([
            kept[FEATURES.length] as number,
            kept[FEATURES.length + 1] as number,
          ])
        : fitCombiner(corpus, patterns, exclude, opts.combinerSample ?? 1_500);
    return engine;
  }

  /** The indexes and the text model, learnt from all but the `exclude`d procedure sources. */
  static assemble(
    corpus: Corpus,
    patterns: PatternLibrary,
    exclude: Set<string>,
  ): EnrichmentEngine {
    const techniques = new Map<string, TechniqueInfo>();
    for (const t of [...corpus.techniques].sort((a, b) => a.attackId.localeCompare(b.attackId))) {
      const known = techniques.get(t.attackId);
      const tactics = [...new Set([...(known?.tactics ?? []), ...t.tactics])].sort();
      const uses = t.procedures.filter((p) => !exclude.has(p.source)).length;
      techniques.set(t.attackId, {
        id: t.attackId,
        name: t.name,
        tactics,
        parent: t.parent,
        children: known?.children ?? [],
        prior: Math.log(1 + uses + (known ? Math.exp(known.prior) - 1 : 0)),
      });
    }
    for (const t of techniques.values()) {
      if (t.parent) techniques.get(t.parent)?.children.push(t.id);
    }
    const tactics = new Map<string, string>();
    for (const t of corpus.tactics) {
      tactics.set(t.shortname.toLowerCase(), t.shortname);
      tactics.set(t.name.toLowerCase().replace(/[\s-]+/g, '_'), t.shortname);
      if (t.id) tactics.set(t.id.toLowerCase(), t.shortname);
    }
    const lexicon = new Map<string, NameEntry>();
    for (const t of techniques.values()) {
      const entry = nameEntry(lexicon, t.name);
      if (entry && !entry.techniques.includes(t.id)) entry.techniques.push(t.id);
    }
    const revoked = resolveRevocations(corpus.revoked, techniques);
    for (const a of corpus.actors) {
      // A held-out actor's own uses are not known to the engine that is measured on them.
      if (exclude.has(a.stixId)) continue;
      const actor: Actor = {
        name: a.name,
        kind: a.kind,
        techniques: a.techniques.flatMap((id) => resolveId(id, techniques, revoked) ?? []),
        weight: 1 / Math.sqrt(a.techniques.length),
        // A software or group with a few techniques proposes them; one with many only supports
        // candidates found otherwise (a group's fifty techniques are not fifty suggestions).
        proposes: a.techniques.length <= ACTOR_PROPOSES,
      };
      for (const n of new Set([a.name, ...a.aliases])) {
        const entry = nameEntry(lexicon, n);
        if (entry && !entry.actors.includes(actor)) entry.actors.push(actor);
      }
    }
    for (const key of [...lexicon.keys()]) {
      const parts = key.split(' ');
      for (let n = 1; n < parts.length; n++) {
        const prefix = parts.slice(0, n).join(' ');
        const entry = lexicon.get(prefix) ?? { techniques: [], actors: [], longer: false };
        entry.longer = true;
        lexicon.set(prefix, entry);
      }
    }
    return new EnrichmentEngine(
      techniques,
      revoked,
      tactics,
      lexicon,
      patterns,
      TextModel.train(trainingDocs(corpus.techniques, patterns, (s) => !exclude.has(s))),
      new Combiner(FEATURES.map(() => 0)),
    );
  }

  /** The combiner's rows for one labelled item: each candidate's features and whether it is right. */
  trainingRows(item: EnrichItem, label: string): Array<[number[], boolean]> {
    const { candidates } = this.candidates(item);
    return [...candidates.values()].map((c) => [this.featureRow(c), c.id === label]);
  }

  get size(): number {
    return this.techniques.size;
  }

  /** The fitted weights, in feature order (what is persisted). */
  weightVector(): number[] {
    return [...this.combiner.weights, ...this.combiner.calibration];
  }

  /** The same indexes with another combiner (fitting scores held-out folds with it). */
  withCombiner(combiner: Combiner): EnrichmentEngine {
    this.combiner = combiner;
    return this;
  }

  /** The fitted weights by feature name (shown by the benchmark, logged at build). */
  weights(): Record<string, number> {
    const [a, b] = this.combiner.calibration;
    return {
      ...Object.fromEntries(FEATURES.map((f, i) => [f, this.combiner.weights[i] ?? 0])),
      calibration_a: a,
      calibration_b: b,
    };
  }

  /**
   * The techniques for an item, best first: at most `topK`, none below `minConfidence`. Evidence
   * is gathered only for those answered.
   */
  enrich(item: EnrichItem, opts: EnrichOptions = {}): Suggestion[] {
    const topK = opts.topK ?? 5;
    const min = opts.minConfidence ?? 0.2;
    const { explicit, candidates, textEvidence } = this.candidates(item);
    const ranked: Array<{ id: string; p: number; members: string[] }> = [];
    for (const id of explicit.keys()) ranked.push({ id, p: EXPLICIT_CONFIDENCE, members: [] });
    const scored = [...candidates.values()].filter((c) => !explicit.has(c.id));
    const ps = this.combiner.probabilities(scored.map((c) => this.featureRow(c)));
    const probs = new Map<string, number>(scored.map((c, i) => [c.id, ps[i] as number]));
    // A family (a technique and its sub-techniques) shares the evidence for what it is about:
    // the parent stands for it when no one sub-technique holds most of that evidence.
    const families = new Map<string, string[]>();
    for (const id of probs.keys()) {
      const root = this.techniques.get(id)?.parent ?? id;
      const members = families.get(root);
      if (members) members.push(id);
      else families.set(root, [id]);
    }
    for (const [root, members] of families) {
      let total = 0;
      let best = members[0] as string;
      for (const m of members) {
        const p = probs.get(m) as number;
        total += p;
        if (p > (probs.get(best) as number)) best = m;
      }
      total = Math.min(0.99, total);
      const bestP = probs.get(best) as number;
      // An artefact pattern of one sub-technique (and none stronger of the parent) settles the
      // family: the text may speak more of the parent, but the artefact is of that one way of
      // doing it, and what names a sub-technique names its parent too.
      const rootPattern = candidates.get(root)?.pattern ?? 0;
      // A pattern listing several ways of the technique settles the family on the technique,
      // however strong each way's own artefact in the list.
      const listed = candidates.get(root)?.lists === true;
      let named: string | undefined;
      let namedP = 0;
      for (const m of members) {
        const s = candidates.get(m)?.pattern ?? 0;
        if (listed || m === root || s < STRENGTHS.medium || s < rootPattern) continue;
        namedP += probs.get(m) as number;
        if (!named || (probs.get(m) as number) > (probs.get(named) as number)) named = m;
      }
      // A text that names the technique itself (a name of two or more terms) and no sub-technique
      // by name or artefact is about the technique: the text model's lean towards one way of
      // doing it does not settle it.
      const parentNamed =
        (candidates.get(root)?.name ?? 0) >= 1 &&
        members.every(
          (m) =>
            m === root ||
            ((candidates.get(m)?.name ?? 0) === 0 && (candidates.get(m)?.pattern ?? 0) === 0),
        );
      const specific = !parentNamed && !listed && best !== root && bestP >= 0.5 * total;
      const id = named ?? (specific ? best : root);
      if (!explicit.has(id)) {
        // An unsettled family answers with its whole probability, a clear sub-technique with its
        // own, a named one with the family's less what the other named sub-techniques hold (a
        // rule listing several LOLBins of one family is not surer than one of them).
        const p = named ? total - namedP + (probs.get(named) as number) : specific ? bestP : total;
        ranked.push({ id, p: this.combiner.calibrate(Math.min(0.99, p)), members });
      }
    }
    return (
      ranked
        .map((r) => ({ ...r, p: Math.round(r.p * 1000) / 1000 }))
        .filter((r) => r.p >= min)
        // Equal confidence: the sub-technique first (a command line naming `T1136.002_Admin` and
        // `T1136_pass` is about the sub-technique), then by id, so the same input gives the same answer.
        .sort(
          (a, b) => b.p - a.p || specificity(b.id) - specificity(a.id) || a.id.localeCompare(b.id),
        )
        .slice(0, topK)
        .map((r) =>
          this.suggestion(
            r.id,
            r.p,
            explicit.get(r.id) ??
              dedupe(
                r.members.flatMap((m) => {
                  const c = candidates.get(m);
                  return c ? [...textEvidence(c), ...c.evidence] : [];
                }),
              ),
          ),
        )
    );
  }

  private suggestion(id: string, confidence: number, evidence: Evidence[]): Suggestion {
    const t = this.techniques.get(id) as TechniqueInfo;
    return {
      technique: id,
      name: t.name,
      confidence,
      tactics: t.tactics,
      evidence,
    };
  }

  private featureRow(c: Candidate): number[] {
    const t = this.techniques.get(c.id) as TechniqueInfo;
    return [
      1,
      c.text?.z ?? 0,
      c.text ? Math.max(-6, c.text.gap) : -6,
      c.text?.top ? 1 : 0,
      c.text ? 0 : 1,
      t.prior / 5,
      c.name,
      c.nameChild,
      c.nameParent,
      c.pattern === STRENGTHS.strong ? 1 : 0,
      c.pattern === STRENGTHS.medium ? 1 : 0,
      c.pattern === STRENGTHS.weak ? 1 : 0,
      Math.min(3, c.patternHits) / 3,
      c.patternFamily,
      c.actor,
      t.parent ? 1 : 0,
    ];
  }

  /**
   * Explicit ids (taken as given) and every other candidate with its signals; the text model's
   * evidence for a candidate is written only when asked (for those answered).
   */
  private candidates(item: EnrichItem): {
    explicit: Map<string, Evidence[]>;
    candidates: Map<string, Candidate>;
    textEvidence: (c: Candidate) => Evidence[];
  } {
    const all = [...FREE_TEXT_FIELDS, ...ARTEFACT_FIELDS]
      .map((f) => [f, untemplated(unescapedPaths(item[f] ?? ''))] as [string, string])
      .filter(([, v]) => v.length > 0);
    const explicit = new Map<string, Evidence[]>();
    const tagged = new Set<string>();
    for (const tag of item.tags ?? []) this.readTag(tag, explicit, tagged);
    for (const [field, value] of all) this.readIds(field, value, explicit);

    const cands = new Map<string, Candidate>();
    const cand = (id: string): Candidate | undefined => {
      if (!this.techniques.has(id)) return undefined;
      let c = cands.get(id);
      if (!c) {
        c = {
          id,
          text: null,
          name: 0,
          nameChild: 0,
          nameParent: 0,
          pattern: 0,
          patternHits: 0,
          lists: false,
          patternFamily: 0,
          actor: 0,
          textTop3: false,
          evidence: [],
        };
        cands.set(id, c);
      }
      return c;
    };

    // The text model reads every field: artefacts are text too (`rundll32`, `-enc`).
    // Each field is split into terms once: for names (with marks) and the model (terms and
    // in-field bigrams).
    const written = new Map<string, string>();
    const split = all.map(([f, v]) => [f, terms(v, written, true)] as [string, string[]]);
    const textFields = all.map(([f]) => f).join('+');
    const scored =
      split.length > 0
        ? this.model.score(split.flatMap(([, t]) => featuresOf(t.filter(isTerm))))
        : null;
    const stats = scored ? textStats(scored.scores) : null;
    const attachText = (c: Candidate) => {
      const i = this.model.index(c.id);
      if (!scored || !stats || i < 0) return;
      const s = scored.scores[i] as number;
      c.text = { z: (s - stats.mean) / stats.std, gap: s - stats.top, top: i === stats.order[0] };
    };
    if (scored && stats) {
      stats.order.slice(0, TEXT_CANDIDATES).forEach((i, rank) => {
        const c = cand(this.model.classes[i] as string);
        if (c) c.textTop3 = rank < 3;
      });
    }
    const textEvidence = (c: Candidate): Evidence[] => {
      const features = scored && c.textTop3 ? this.model.explain(scored.matched, c.id, 4) : [];
      if (features.length === 0) return [];
      const words = [...new Set(features.map((f) => asWritten(f, written)))];
      return [{ signal: 'text', field: textFields, match: words.join(', ') }];
    };

    const existing = (id: string) => cands.get(id);
    for (const [field, seq] of split) this.readNames(field, seq, cand, existing);
    for (const hit of matchPatterns(this.patterns, all)) {
      const id = this.resolve(hit.pattern.technique);
      const c = id ? cand(id) : undefined;
      if (!c) continue;
      const s = STRENGTHS[hit.pattern.strength];
      c.pattern = Math.max(c.pattern, s);
      c.patternHits++;
      c.lists ||= hit.pattern.lists;
      c.evidence.push({
        signal: 'pattern',
        field: hit.field,
        match: hit.match,
        detail: hit.pattern.id,
      });
      for (const f of this.family(c.id)) {
        const m = cand(f);
        if (m) m.patternFamily = Math.max(m.patternFamily, s);
      }
    }
    for (const c of [...cands.values()]) {
      const t = this.techniques.get(c.id) as TechniqueInfo;
      if (c.name > 0) {
        const parent = t.parent ? cand(t.parent) : undefined;
        if (parent) parent.nameChild = Math.max(parent.nameChild, c.name);
        for (const child of t.children) {
          const m = cand(child);
          if (m) m.nameParent = Math.max(m.nameParent, c.name);
        }
      }
    }
    for (const c of cands.values()) attachText(c);
    // A tactic tag (attack.persistence) narrows the candidates to that tactic's techniques.
    if (tagged.size > 0) {
      for (const [id, c] of cands) {
        const t = this.techniques.get(c.id) as TechniqueInfo;
        if (!t.tactics.some((x) => tagged.has(x))) cands.delete(id);
      }
    }
    return { explicit, candidates: cands, textEvidence };
  }

  private family(id: string): string[] {
    const t = this.techniques.get(id);
    if (!t) return [];
    const root = t.parent ? this.techniques.get(t.parent) : t;
    return root ? [root.id, ...root.children] : [id];
  }

  /** An id as given, or what replaced it when it was revoked; undefined when unknown. */
  private resolve(id: string): string | undefined {
    return resolveId(id, this.techniques, this.revoked);
  }

  private readTag(tag: string, explicit: Map<string, Evidence[]>, tagged: Set<string>): void {
    const t = tag.trim().toLowerCase();
    const m = /^(?:attack[.:\-_]|mitre[.:\-_]attack[.:\-_])?(t\d{4}(?:[._]\d{3})?)$/.exec(t);
    if (m) {
      const given = (m[1] as string).replace('_', '.').toUpperCase();
      this.addExplicit(explicit, given, { signal: 'tag', field: 'tags', match: tag });
      return;
    }
    const tactic = /^(?:attack[.:\-_]|mitre[.:\-_]attack[.:\-_])?([a-z_\-\s]+|ta\d{4})$/.exec(t);
    const short = tactic
      ? this.tactics.get((tactic[1] as string).replace(/[\s-]+/g, '_'))
      : undefined;
    if (short) tagged.add(short);
  }

  private readIds(field: string, value: string, explicit: Map<string, Evidence[]>): void {
    // An id inside a name (`T1136.002_Admin`, `PathToAtomicsFolder\T1218.011\bin`) counts: an
    // underscore bounds it, and a sub-technique id is never cut back to its parent.
    for (const m of value.matchAll(
      /(?<![a-z0-9])(?:attack[.:_-])?(T\d{4}(?:\.\d{3})?)(?!\d|\.\d)/gi,
    )) {
      this.addExplicit(explicit, (m[1] as string).toUpperCase(), {
        signal: 'id',
        field,
        match: m[0],
      });
    }
  }

  private addExplicit(explicit: Map<string, Evidence[]>, given: string, ev: Evidence): void {
    const id = this.resolve(given);
    if (!id) return;
    const evidence =
      id === given ? ev : { ...ev, detail: `${given} was revoked: replaced by ${id}` };
    explicit.set(id, [...(explicit.get(id) ?? []), evidence]);
  }

  /** Technique, software and group names in the text, as whole term sequences. */
  private readNames(
    field: string,
    seq: string[],
    cand: (id: string) => Candidate | undefined,
    existing: (id: string) => Candidate | undefined,
  ): void {
    for (let i = 0; i < seq.length; i++) {
      let key = '';
      // Marks count as tokens of the key: a name of six terms may span eleven.
      for (let n = 1; n < 2 * MAX_NAME_TERMS && i + n <= seq.length; n++) {
        key = n === 1 ? (seq[i] as string) : `${key} ${seq[i + n - 1] as string}`;
        const entry = this.lexicon.get(key);
        if (!entry) break;
        const match = n === 1 ? key : key.split(' ').filter(isTerm).join(' ');
        for (const id of entry.techniques) {
          const c = cand(id);
          if (!c) continue;
          // A name of several terms says more than one word ("Process Injection" vs "Proxy").
          c.name = Math.max(c.name, Math.min(1, 0.4 + 0.3 * n));
          c.evidence.push({
            signal: 'name',
            field,
            match,
            detail: this.techniques.get(id)?.name,
          });
        }
        for (const actor of entry.actors) {
          for (const id of actor.techniques) {
            const c = actor.proposes ? cand(id) : existing(id);
            if (!c || c.actor >= actor.weight) continue;
            c.actor = actor.weight;
            c.evidence.push({ signal: actor.kind, field, match, detail: actor.name });
          }
        }
        // A scan stops where no name goes on.
        if (!entry.longer) break;
      }
    }
  }
}

/** A name's entry in the lexicon (made when new); undefined for a name too short or too long. */
function nameEntry(lexicon: Map<string, NameEntry>, name: string): NameEntry | undefined {
  const seq = terms(name, undefined, true);
  while (seq.length > 0 && !isTerm(seq[seq.length - 1] as string)) seq.pop();
  const key = seq.join(' ');
  // One- and two-letter names ("at") and stop words would match everywhere.
  if (key.length < 3 || seq.filter(isTerm).length > MAX_NAME_TERMS) return undefined;
  let entry = lexicon.get(key);
  if (!entry) lexicon.set(key, (entry = { techniques: [], actors: [], longer: false }));
  return entry;
}

function resolveId(
  id: string,
  techniques: Map<string, TechniqueInfo>,
  revoked: Map<string, string>,
): string | undefined {
  const upper = id.toUpperCase();
  return techniques.has(upper) ? upper : revoked.get(upper);
}

function resolveRevocations(
  pairs: Array<{ from: string; to: string }>,
  techniques: Map<string, TechniqueInfo>,
): Map<string, string> {
  const next = new Map(pairs.map((p) => [p.from, p.to]));
  const out = new Map<string, string>();
  for (const from of next.keys()) {
    let to = next.get(from);
    for (let hops = 0; to && !techniques.has(to) && hops < 10; hops++) to = next.get(to);
    if (to && techniques.has(to)) out.set(from, to);
  }
  return out;
}

/** 1 for a sub-technique id, 0 for a technique's. */
const specificity = (id: string): number => (id.includes('.') ? 1 : 0);

function dedupe(evidence: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return evidence.filter((e) => {
    const k = `${e.signal}|${e.field}|${e.match}|${e.detail ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Mean, spread, best score and the order of the text model's scores. */
function textStats(scores: Float64Array) {
  let mean = 0;
  for (const s of scores) mean += s;
  mean /= scores.length;
  let variance = 0;
  for (const s of scores) variance += (s - mean) ** 2;
  // The best few only, by insertion (best first, ties by index): no full sort per item.
  const order: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i] as number;
    if (
      order.length === TEXT_CANDIDATES &&
      v <= (scores[order[order.length - 1] as number] as number)
    )
      continue;
    let at = order.length;
    while (at > 0 && v > (scores[order[at - 1] as number] as number)) at--;
    order.splice(at, 0, i);
    if (order.length > TEXT_CANDIDATES) order.pop();
  }
  return {
    mean,
    std: Math.sqrt(variance / scores.length) || 1,
    top: scores[order[0] as number] as number,
    order,
  };
}

/**
 * Fits the combiner on procedure examples the text model did not learn from: the actors are cut
 * in two folds; an engine that learnt without one fold scores a sample of that fold's procedures.
 */
function fitCombiner(
  corpus: Corpus,
  patterns: PatternLibrary,
  exclude: Set<string>,
  sample: number,
): Combiner {
  const fitted: Array<{ rows: number[][]; right: number }> = [];
  const held: Array<{ engine: EnrichmentEngine; items: Array<{ text: string; label: string }> }> =
    [];
  for (const fold of [0, 1]) {
    const inFold = (s: string) => !exclude.has(s) && (fraction(s) < 0.5 ? 0 : 1) === fold;
    const heldOut = new Set<string>(exclude);
    const items: Array<{ text: string; label: string; key: string }> = [];
    for (const t of corpus.techniques) {
      for (const p of t.procedures) {
        if (!inFold(p.source)) continue;
        heldOut.add(p.source);
        items.push({
          text: procedureText(p.text),
          label: t.attackId,
          key: `${p.source}|${t.attackId}`,
        });
      }
    }
    // Detection strategies of the fold too: their analytics read like detection rules, text the
    // combiner must also learn to weigh (whole, and without the strategy's name half the time).
    const analytics: typeof items = [];
    for (const t of corpus.techniques) {
      for (const d of t.detections) {
        const source = detectionSource(d);
        if (!inFold(source)) continue;
        heldOut.add(source);
        const key = `${source}|${t.attackId}|${d.length}`;
        const text = fraction(`name:${key}`) < 0.5 ? d : d.slice(d.indexOf('. ') + 2);
        analytics.push({ text, label: t.attackId, key });
      }
    }
    // Artefacts alone (the pattern library's own examples, half to each fold): procedure text
    // rarely holds a command line, and the combiner must learn what a pattern match is worth.
    const artefacts: typeof items = [];
    for (const p of patterns.patterns) {
      p.examples.forEach((example, i) => {
        if ((fraction(`${p.id}|${i}`) < 0.5 ? 0 : 1) === fold) {
          heldOut.add(exampleSource(p.id, i));
          artefacts.push({ text: example, label: p.technique, key: `${p.id}|${i}` });
        }
      });
    }
    const foldEngine = EnrichmentEngine.assemble(corpus, patterns, heldOut);
    const bySample = (list: typeof items, n: number) => {
      const order = new Map(list.map((it) => [it.key, fraction(it.key)]));
      return [...list]
        .sort(
          (a, b) =>
            (order.get(a.key) as number) - (order.get(b.key) as number) ||
            a.key.localeCompare(b.key),
        )
        .slice(0, n);
    };
    const sampled = [...bySample(items, sample), ...bySample(analytics, Math.round(sample / 3))];
    held.push({ engine: foldEngine, items: sampled });
    for (const it of [...sampled, ...artefacts]) {
      const rows = foldEngine.trainingRows({ text: it.text }, it.label);
      fitted.push({ rows: rows.map(([f]) => f), right: rows.findIndex(([, ok]) => ok) });
    }
  }
  const combiner = Combiner.fit(fitted);
  // The family step (a parent standing for its sub-techniques) moves probabilities: the final
  // confidence is recalibrated on what the fitted engine answers for the held-out procedures.
  const calibration: number[][] = [];
  const right: number[] = [];
  for (const fold of held) {
    fold.engine.withCombiner(combiner);
    for (const it of fold.items) {
      const top = fold.engine.enrich({ text: it.text }, { topK: 1, minConfidence: 0 })[0];
      if (!top) continue;
      calibration.push([1, logit(top.confidence)]);
      right.push(top.technique === it.label ? 1 : 0);
    }
  }
  const [b, a] = logistic(calibration, right, { l2: 0 });
  return combiner.withCalibration([a ?? 1, b ?? 0]);
}
