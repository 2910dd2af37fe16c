/**
 * A model over candidates' signal features. Each candidate of an item scores w·x; a candidate's
 * probability of being the item's technique is its share of a softmax over the item's candidates
 * and a "none of these" option scored 0 (a conditional logit). Fitted on whole items held out
 * from the text model's training (see EnrichmentEngine.build): the candidates compete, so the
 * model learns which one is right, and an item whose answer is no candidate teaches "none".
 */
export class Combiner {
  constructor(
    readonly weights: number[],
    /** Platt scaling of the final confidence: sigmoid(a · logit(p) + b), fitted on held-out items. */
    readonly calibration: [number, number] = [1, 0],
  ) {}

  /** Items as their candidates' feature rows and the index of the right one (-1: none of them). */
  static fit(
    items: Array<{ rows: number[][]; right: number }>,
    opts: { l2?: number; iterations?: number } = {},
  ): Combiner {
    const dims = items.find((g) => g.rows.length > 0)?.rows[0]?.length ?? 0;
    const w = adam(dims, items.length, opts, (weights, grad) => {
      for (const item of items) {
        const ps = softmaxWithNone(weights, item.rows);
        item.rows.forEach((x, j) => {
          const err = (ps[j] as number) - (j === item.right ? 1 : 0);
          for (let d = 0; d < dims; d++) grad[d] = (grad[d] as number) + err * (x[d] as number);
        });
      }
    });
    return new Combiner(w);
  }

  /** Each candidate's probability of being the item's technique, the candidates given together. */
  probabilities(rows: number[][]): number[] {
    return softmaxWithNone(this.weights, rows);
  }

  calibrate(p: number): number {
    const [a, b] = this.calibration;
    return sigmoid(a * logit(p) + b);
  }

  /**
   * The same model with a Platt calibration. A slope that is not positive (fitted on too few
   * held-out items, as a small bundle gives) would turn the ranking upside down: the
   * confidence is then left uncalibrated.
   */
  withCalibration([a, b]: [number, number]): Combiner {
    return new Combiner(this.weights, a > 0 && Number.isFinite(b) ? [a, b] : [1, 0]);
  }
}

/** A plain logistic regression (rows and 0/1 labels): its weights, the first row entry the bias's. */
export function logistic(
  rows: number[][],
  labels: number[],
  opts: { l2?: number; iterations?: number } = {},
): number[] {
  const dims = rows[0]?.length ?? 0;
  return adam(dims, rows.length, opts, (w, grad) => {
    rows.forEach((x, i) => {
      const err = sigmoid(dot(w, x)) - (labels[i] as number);
      for (let d = 0; d < dims; d++) grad[d] = (grad[d] as number) + err * (x[d] as number);
    });
  });
}

/**
 * Full-batch Adam with L2 (the first weight, the bias, unpenalised): features live on different
 * scales, and plain gradient descent would crawl on some. `accumulate` adds the summed gradient
 * of the n examples at w into grad.
 */
function adam(
  dims: number,
  n: number,
  opts: { l2?: number; iterations?: number },
  accumulate: (w: number[], grad: number[]) => void,
): number[] {
  const w = new Array<number>(dims).fill(0);
  if (n === 0 || dims === 0) return w;
  const l2 = opts.l2 ?? 1e-3;
  const m = new Array<number>(dims).fill(0);
  const v = new Array<number>(dims).fill(0);
  const lr = 0.05;
  for (let it = 1; it <= (opts.iterations ?? 400); it++) {
    const grad = new Array<number>(dims).fill(0);
    accumulate(w, grad);
    for (let d = 0; d < dims; d++) {
      const g = (grad[d] as number) / n + (d === 0 ? 0 : l2 * (w[d] as number));
      m[d] = 0.9 * (m[d] as number) + 0.1 * g;
      v[d] = 0.999 * (v[d] as number) + 0.001 * g * g;
      const mh = (m[d] as number) / (1 - 0.9 ** it);
      const vh = (v[d] as number) / (1 - 0.999 ** it);
      w[d] = (w[d] as number) - (lr * mh) / (Math.sqrt(vh) + 1e-8);
    }
  }
  return w;
}

/** exp(s_j) / (1 + Σ exp(s_k)): the candidates' shares beside a "none" option scored 0. */
function softmaxWithNone(w: number[], rows: number[][]): number[] {
  const scores = rows.map((x) => dot(w, x));
  const top = Math.max(0, ...scores);
  const e = scores.map((s) => Math.exp(s - top));
  const z = Math.exp(-top) + e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

function dot(w: number[], x: number[]): number {
  let s = 0;
  for (let d = 0; d < w.length; d++) s += (w[d] as number) * (x[d] as number);
  return s;
}

export function logit(p: number): number {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
