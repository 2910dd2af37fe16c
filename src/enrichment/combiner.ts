/**
 * A logistic model over a candidate's signal features: P(the candidate is the item's technique).
 * Fitted by full-batch gradient descent with L2 on rows held out from the text model's training
 * (see EnrichmentEngine.build), so its output is a probability measured on unseen text.
 */
export class Combiner {
  constructor(
    readonly weights: number[],
    /** Platt scaling of the final confidence: sigmoid(a · logit(p) + b), fitted on held-out items. */
    readonly calibration: [number, number] = [1, 0],
  ) {}

  static fit(rows: number[][], labels: number[], opts: { l2?: number; iterations?: number } = {}) {
    const dims = rows[0]?.length ?? 0;
    const w = new Array<number>(dims).fill(0);
    const l2 = opts.l2 ?? 1e-3;
    const n = rows.length;
    if (n === 0) return new Combiner(w);
    // Adam: features live on different scales; plain gradient descent would crawl on some.
    const m = new Array<number>(dims).fill(0);
    const v = new Array<number>(dims).fill(0);
    const lr = 0.05;
    for (let it = 1; it <= (opts.iterations ?? 400); it++) {
      const grad = new Array<number>(dims).fill(0);
      for (let i = 0; i < n; i++) {
        const x = rows[i] as number[];
        const err = sigmoid(dot(w, x)) - (labels[i] as number);
        for (let d = 0; d < dims; d++) grad[d] = (grad[d] as number) + err * (x[d] as number);
      }
      for (let d = 0; d < dims; d++) {
        const g = (grad[d] as number) / n + (d === 0 ? 0 : l2 * (w[d] as number));
        m[d] = 0.9 * (m[d] as number) + 0.1 * g;
        v[d] = 0.999 * (v[d] as number) + 0.001 * g * g;
        const mh = (m[d] as number) / (1 - 0.9 ** it);
        const vh = (v[d] as number) / (1 - 0.999 ** it);
        w[d] = (w[d] as number) - (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
    }
    return new Combiner(w);
  }

  probability(x: number[]): number {
    return sigmoid(dot(this.weights, x));
  }

  calibrate(p: number): number {
    const [a, b] = this.calibration;
    return sigmoid(a * logit(p) + b);
  }

  withCalibration(calibration: [number, number]): Combiner {
    return new Combiner(this.weights, calibration);
  }
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
