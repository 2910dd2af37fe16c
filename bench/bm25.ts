import { terms } from '../src/enrichment/text';

/**
 * Okapi BM25 over one document per technique: the baseline of bench:enrich, which ranks by how
 * rare the shared terms are rather than by how likely they are under each technique's words.
 */
export class Bm25 {
  private readonly df = new Map<string, number>();
  /** term → [document index, term frequency] pairs. */
  private readonly postings = new Map<string, Array<[number, number]>>();
  private readonly lengths: number[] = [];
  private readonly avg: number;

  constructor(
    readonly ids: string[],
    texts: string[],
    private readonly k1 = 1.2,
    private readonly b = 0.75,
  ) {
    texts.forEach((text, d) => {
      const tf = new Map<string, number>();
      const t = terms(text);
      for (const w of t) tf.set(w, (tf.get(w) ?? 0) + 1);
      for (const [w, f] of tf) {
        this.df.set(w, (this.df.get(w) ?? 0) + 1);
        let list = this.postings.get(w);
        if (!list) this.postings.set(w, (list = []));
        list.push([d, f]);
      }
      this.lengths.push(t.length);
    });
    this.avg = this.lengths.reduce((s, n) => s + n, 0) / Math.max(1, this.lengths.length);
  }

  /** Every document's score for the text (0 where no term is shared). */
  scores(text: string): Float64Array {
    const out = new Float64Array(this.ids.length);
    const n = this.ids.length;
    for (const w of new Set(terms(text))) {
      const list = this.postings.get(w);
      if (!list) continue;
      const df = this.df.get(w) ?? 0;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (const [d, f] of list) {
        const norm = this.k1 * (1 - this.b + (this.b * (this.lengths[d] as number)) / this.avg);
        out[d] = (out[d] as number) + (idf * f * (this.k1 + 1)) / (f + norm);
      }
    }
    return out;
  }

  /** Document ids by score, best first (ties by id), those sharing no term left out. */
  rank(text: string): string[] {
    const s = this.scores(text);
    return [...s.keys()]
      .filter((d) => (s[d] as number) > 0)
      .sort(
        (a, b) =>
          (s[b] as number) - (s[a] as number) ||
          (this.ids[a] as string).localeCompare(this.ids[b] as string),
      )
      .map((d) => this.ids[d] as string);
  }
}
