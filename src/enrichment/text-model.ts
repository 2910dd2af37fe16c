import { bagOf, features } from './text';

/** A known feature of a scored text: its weight there and its posting. */
interface Matched {
  feature: string;
  weight: number;
  posting: Posting;
}

/**
 * A feature's classes and gains: entries `start` to `end` - 1 of the model's flat arrays (one
 * pair of arrays for the whole vocabulary, not two small ones per feature: a third less memory,
 * and the scoring loop reads one kind of array).
 */
interface Posting {
  start: number;
  end: number;
  /** The feature's idf over the training documents (kept here: one lookup per feature). */
  idf: number;
}

/**
 * A multinomial naive Bayes model over ATT&CK's labelled text, one class per technique, stored
 * sparsely: per feature, the classes that saw it and their smoothed log-probability gain. A
 * document's score for a class is Σ w·log P(feature | class), with w the feature's idf in the
 * query (rare features say more), computed as a sparse part plus one dense correction.
 */
export class TextModel {
  private constructor(
    readonly classes: string[],
    /** feature → where its classes and their log((n + α) / α) stand in `classOf` and `gain`. */
    private readonly postings: Map<string, Posting>,
    private readonly classOf: Int32Array,
    private readonly gain: Float64Array,
    /** Per class: log(α / (N_c + α·|V|)), the log-probability of an unseen feature. */
    private readonly unseen: Float64Array,
  ) {}

  private indexOf: Map<string, number> | undefined;

  /** The class's position in `classes` and in a score array; -1 when unknown. */
  index(label: string): number {
    this.indexOf ??= new Map(this.classes.map((c, i) => [c, i]));
    return this.indexOf.get(label) ?? -1;
  }

  /** Documents as (class, text, weight); the weight scales the document's counts. */
  static train(
    docs: Iterable<{ label: string; text: string; weight?: number }>,
    alpha = 0.1,
  ): TextModel {
    const classIndex = new Map<string, number>();
    const counts = new Map<string, Map<number, number>>();
    const df = new Map<string, number>();
    const totals: number[] = [];
    let nDocs = 0;
    for (const d of docs) {
      let c = classIndex.get(d.label);
      if (c === undefined) {
        c = classIndex.size;
        classIndex.set(d.label, c);
        totals.push(0);
      }
      nDocs++;
      const bag = bagOf(features(d.text));
      const w = d.weight ?? 1;
      for (const [f, tf] of bag) {
        df.set(f, (df.get(f) ?? 0) + 1);
        let row = counts.get(f);
        if (!row) counts.set(f, (row = new Map()));
        row.set(c, (row.get(c) ?? 0) + tf * w);
        totals[c] = (totals[c] ?? 0) + tf * w;
      }
    }
    const vocab = counts.size;
    let size = 0;
    for (const row of counts.values()) size += row.size;
    const classOf = new Int32Array(size);
    const gain = new Float64Array(size);
    const postings = new Map<string, Posting>();
    let at = 0;
    for (const [f, row] of counts) {
      // In class order: `explain` finds a class in a posting by binary search.
      const start = at;
      for (const [c, n] of [...row].sort((a, b) => a[0] - b[0])) {
        classOf[at] = c;
        gain[at++] = Math.log((n + alpha) / alpha);
      }
      postings.set(f, { start, end: at, idf: Math.log(1 + nDocs / (df.get(f) as number)) });
    }
    const unseen = Float64Array.from(totals, (n) => Math.log(alpha / (n + alpha * vocab)));
    return new TextModel([...classIndex.keys()], postings, classOf, gain, unseen);
  }

  /**
   * Per class, the mean log-likelihood of the text's known features (weighted by idf), and those
   * features with their weights and postings (for explain): null when no feature is known.
   */
  score(feats: string[]): { scores: Float64Array; matched: Matched[] } | null {
    const bag = bagOf(feats);
    const scores = new Float64Array(this.classes.length);
    let weight = 0;
    const matched: Matched[] = [];
    for (const [f, tf] of bag) {
      const list = this.postings.get(f);
      if (!list) continue;
      const w = tf * list.idf;
      weight += w;
      matched.push({ feature: f, weight: w, posting: list });
      for (let k = list.start; k < list.end; k++) {
        const c = this.classOf[k] as number;
        scores[c] = (scores[c] as number) + w * (this.gain[k] as number);
      }
    }
    if (weight === 0) return null;
    for (let c = 0; c < scores.length; c++) {
      scores[c] = ((scores[c] as number) + weight * (this.unseen[c] as number)) / weight;
    }
    return { scores, matched };
  }

  /**
   * The known features of a scored text (`matched`) that speak most for `label` (its evidence), as
   * the model writes them (stems, bigrams joined by `_`).
   */
  explain(matched: Matched[], label: string, n = 5): string[] {
    const c = this.index(label);
    if (c < 0) return [];
    const out: Array<[string, number]> = [];
    for (const { feature, weight, posting } of matched) {
      const k = search(this.classOf, posting, c);
      if (k >= 0) out.push([feature, weight * (this.gain[k] as number)]);
    }
    return out
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([f]) => f);
  }
}

/** The position of `c` in the posting's (ascending) part of `xs`, or -1. */
function search(xs: Int32Array, { start, end }: Posting, c: number): number {
  let lo = start;
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = xs[mid] as number;
    if (v === c) return mid;
    if (v < c) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
