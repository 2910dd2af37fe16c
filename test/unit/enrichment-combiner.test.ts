import { Combiner, logistic } from '../../src/enrichment/combiner';

// The combiner ranks an item's candidates against each other (a conditional logit with a "none of
// these" option); the plain logistic regression beside it fits the final calibration.
describe('the enrichment combiner', () => {
  // Feature rows: [bias, signal]. In every item the right candidate is the one with the signal.
  const item = (right: number, n = 4) => ({
    rows: Array.from({ length: n }, (_, j) => [1, j === right ? 1 : 0]),
    right,
  });

  it('learns the feature that marks the right candidate, and its probabilities are shares', () => {
    const c = Combiner.fit([item(0), item(1), item(2), item(3), item(1, 2)]);
    expect(c.weights[1]).toBeGreaterThan(1);
    const ps = c.probabilities([
      [1, 1],
      [1, 0],
      [1, 0],
    ]);
    expect(ps[0]).toBeGreaterThan(ps[1] as number);
    expect(ps.reduce((a, b) => a + b, 0)).toBeLessThan(1);
  });

  it('learns "none of these" from items whose answer is no candidate', () => {
    // Half the items have the answer among the candidates, half have none: no candidate wins
    // much of the probability when nothing marks it.
    const none = {
      rows: [
        [1, 0],
        [1, 0],
      ],
      right: -1,
    };
    const c = Combiner.fit([item(0, 2), none, item(1, 2), none]);
    const [p] = c.probabilities([[1, 0]]);
    expect(p).toBeLessThan(0.3);
    expect(c.weights[0]).toBeLessThan(0);
  });

  it('leaves a candidate alone to stand against "none" with no feature', () => {
    expect(new Combiner([0, 0]).probabilities([[1, 0]])).toEqual([0.5]);
    expect(Combiner.fit([]).weights).toEqual([]);
  });

  it('fits a plain logistic regression for the calibration', () => {
    const rows = [
      [1, -2],
      [1, -1],
      [1, 1],
      [1, 2],
    ];
    const [b, a] = logistic(rows, [0, 0, 1, 1], { l2: 0 });
    expect(a).toBeGreaterThan(1);
    expect(Math.abs(b as number)).toBeLessThan(0.5);
  });

  it('never lets the calibration turn the ranking upside down', () => {
    const c = new Combiner([0, 1]);
    const fitted = c.withCalibration([0.5, 0.2]);
    expect(fitted.calibrate(0.9)).toBeGreaterThan(fitted.calibrate(0.1));
    // A slope fitted on too few items may come out negative: the confidence stays as it was.
    const inverted = c.withCalibration([-0.16, 4.96]);
    expect(inverted.calibration).toEqual([1, 0]);
    expect(inverted.calibrate(0.9)).toBeCloseTo(0.9, 10);
    expect(inverted.calibrate(0.1)).toBeLessThan(inverted.calibrate(0.9));
  });
});
