import { candidateGroups } from '../../src/reporting/candidates';
import { buildLayer, HEAT } from '../../src/reporting/navigator';
import { Snapshot, type SnapshotTechnique } from '../../src/reporting/next-steps';
import { likelyPaths } from '../../src/reporting/paths';
import { attackUrl, buildReport, renderHtml, renderMarkdown } from '../../src/reporting/report';
import { layOut } from '../../src/reporting/reporting-service';
import {
  corpusRows,
  fitSuggestions,
  answerLevel,
  blendRankings,
  bothLevels,
  pairRate,
  parentNamingRates,
  rankSuggestions,
  toUses,
  type CorpusRow,
} from '../../src/reporting/suggestions';
import { readLayer } from '../support/layer-reader';

// A small world: A and B always travel together, C and D too, E is everywhere.
const rows: CorpusRow[] = [
  ...Array.from({ length: 6 }, (_, i) => ({
    id: `g${i}`,
    kind: 'group' as const,
    techniques: ['A', 'B', 'E'],
  })),
  ...Array.from({ length: 6 }, (_, i) => ({
    id: `c${i}`,
    kind: 'campaign' as const,
    techniques: ['C', 'D', 'E'],
  })),
  { id: 's0', kind: 'software', techniques: ['A', 'D'] },
];

describe('the next-step model', () => {
  const model = fitSuggestions(rows);
  const weight = (from: string, to: string) =>
    model.edges.find((e) => e.from === from && e.to === to)?.weight ?? 0;

  it('learns that techniques seen together point to each other', () => {
    expect(weight('A', 'B')).toBeGreaterThan(weight('A', 'C'));
    expect(weight('C', 'D')).toBeGreaterThan(weight('C', 'B'));
    expect(model.edges.every((e) => e.weight > 0 && e.from !== e.to)).toBe(true);
  });

  it('scales popularity so that the most used technique has 1', () => {
    expect(model.prior.get('E')).toBe(1);
    expect(model.prior.get('A')).toBeLessThan(1);
  });

  it('is deterministic', () => {
    expect(fitSuggestions(rows)).toEqual(model);
  });

  it('keeps at most `keep` edges per technique', () => {
    const few = fitSuggestions(rows, {
      lambda: 1,
      emphasis: 0,
      weights: { group: 1, campaign: 1, software: 1, report: 1 },
      prior: 0,
      keep: 1,
    });
    const from = new Map<string, number>();
    for (const e of few.edges) from.set(e.from, (from.get(e.from) ?? 0) + 1);
    expect(Math.max(...from.values())).toBe(1);
  });

  it('learns from each cited report as well as from each actor', () => {
    const uses = toUses([
      {
        actor: 'g1',
        kind: 'group',
        technique: 'A',
        parent: null,
        description: 'Did A.(Citation: R1)(Citation: R2)',
      },
      {
        actor: 'g1',
        kind: 'group',
        technique: 'B',
        parent: null,
        description: 'Did B.(Citation: R1)',
      },
      {
        actor: 's1',
        kind: 'software',
        technique: 'C',
        parent: null,
        description: 'Does C.(Citation: R1)(Citation: R1)',
      },
      { actor: 's1', kind: 'software', technique: 'D', parent: null, description: null },
    ]);
    expect(uses[0]?.reports).toEqual(['R1', 'R2']);
    expect(uses[2]?.reports).toEqual(['R1']);
    // R1 joins two actors' techniques; R2 names one technique and says nothing about co-occurrence.
    expect(corpusRows(uses)).toEqual([
      { id: 'g1', kind: 'group', techniques: ['A', 'B'] },
      { id: 'report:R1', kind: 'report', techniques: ['A', 'B', 'C'] },
      { id: 's1', kind: 'software', techniques: ['C', 'D'] },
    ]);
    // A source cited for hundreds of techniques is a catalogue, not one intrusion.
    const catalogue = toUses(
      Array.from({ length: 201 }, (_, i) => ({
        actor: 'g2',
        kind: 'group' as const,
        technique: `T${i}`,
        parent: null,
        description: '(Citation: Catalogue)',
      })),
    );
    expect(corpusRows(catalogue).map((r) => r.id)).toEqual(['g2']);
  });

  it('counts each sub-technique as its parent at the technique granularity', () => {
    const uses = toUses([
      { actor: 'g1', kind: 'group', technique: 'T1.001', parent: 'T1', description: null },
      { actor: 'g1', kind: 'group', technique: 'T1.002', parent: 'T1', description: null },
      { actor: 'g1', kind: 'group', technique: 'T2', parent: null, description: null },
    ]);
    expect(corpusRows(uses)).toEqual([
      { id: 'g1', kind: 'group', techniques: ['T1.001', 'T1.002', 'T2'] },
    ]);
    expect(corpusRows(uses, 'technique')).toEqual([
      { id: 'g1', kind: 'group', techniques: ['T1', 'T2'] },
    ]);
  });

  it("writes a fixed half of each set's sub-techniques as their parents at the mixed granularity", () => {
    const uses = toUses(
      Array.from({ length: 40 }, (_, i) => ({
        actor: 'g1',
        kind: 'group' as const,
        technique: `T1.${String(i + 1).padStart(3, '0')}`,
        parent: 'T1',
        description: null,
      })),
    );
    const [row] = corpusRows(uses, 'mixed');
    const kept = row!.techniques.filter((t) => t.includes('.')).length;
    expect(row!.techniques).toContain('T1');
    expect(kept).toBeGreaterThan(10);
    expect(kept).toBeLessThan(30);
    expect(corpusRows(uses, 'mixed')).toEqual([row]);
  });

  it('answers a set with techniques when it names parents and no sub-technique, both levels when it names parents more than ATT&CK does', () => {
    const families = ['T1059', 'T1566', 'T1003', 'T1021'];
    const familyOf = (t: string) =>
      t.includes('.') ? t.split('.')[0]! : families.includes(t) ? t : null;
    const rates: Record<string, number> = { T1059: 0.6, T1566: 0.05 };
    const level = (observed: string[]) => answerLevel(observed, familyOf, (f) => rates[f] ?? 0.14);
    expect(level(['T1059', 'T1105'])).toEqual({ granularity: 'technique', blend: 1 });
    expect(level(['T1566.001', 'T1105'])).toEqual({ granularity: 'sub-technique', blend: 0 });
    // A parent ATT&CK's actors seldom name (T1566) says more than one they often do (T1059).
    const rare = level(['T1566', 'T1003.001', 'T1021.002']);
    const common = level(['T1059', 'T1003.001', 'T1021.002']);
    expect(rare.granularity).toBe('mixed');
    expect(rare.blend).toBeCloseTo((2 * (1 - 0.33)) / (4 - 0.33));
    expect(common.granularity).toBe('mixed');
    expect(common.blend).toBeCloseTo((2 * (1 - 0.88)) / (4 - 0.88));
    // No more parents than expected: as ATT&CK maps.
    expect(level(['T1059', 'T1059.001', 'T1003.001', 'T1021.002'])).toEqual({
      granularity: 'sub-technique',
      blend: 0,
    });
    // Techniques without sub-techniques say nothing of the caller's level.
    expect(level(['T1105', 'T1082'])).toEqual({ granularity: 'sub-technique', blend: 0 });
    expect(level([])).toEqual({ granularity: 'sub-technique', blend: 0 });
  });

  it('measures how often a corpus names each family by its parent, shrunk to the overall rate', () => {
    const familyOf = (t: string) =>
      t.includes('.') ? t.split('.')[0]! : ['T1059', 'T1566'].includes(t) ? t : null;
    const rateOf = parentNamingRates(
      [
        ['T1059', 'T1105'],
        ['T1059.001', 'T1566.001', 'T1566'],
        ['T1059', 'T1566.002'],
      ],
      familyOf,
    );
    // Overall 3 named of 6; T1059 2 of 3, T1566 1 of 3; two pseudo-observations at 0.5.
    expect(rateOf('T1059')).toBeCloseTo(3 / 5);
    expect(rateOf('T1566')).toBeCloseTo(2 / 5);
    expect(rateOf('T1003')).toBeCloseTo(0.5);
  });

  it('measures how often a set naming a sub-technique names its parent too', () => {
    const familyOf = (t: string) =>
      t.includes('.') ? t.split('.')[0]! : ['T1059', 'T1566'].includes(t) ? t : null;
    // Families with a sub-technique named: T1059 and T1566, then T1059, then T1566 — one paired.
    const sets = [
      ['T1059.001', 'T1566.001', 'T1566'],
      ['T1059.003', 'T1105'],
      ['T1566.002', 'T1059'],
    ];
    expect(pairRate(sets, familyOf)).toBeCloseTo(1 / 4);
    expect(pairRate([['T1105']], familyOf)).toBe(0);
  });

  it('tells a list written with sub-techniques beside their parents, and the parents it leaves out', () => {
    const familyOf = (t: string) =>
      t.includes('.') ? t.split('.')[0]! : ['T1059', 'T1566', 'T1071'].includes(t) ? t : null;
    const paired = bothLevels(
      ['T1566', 'T1566.001', 'T1059.001', 'T1059.003', 'T1105'],
      familyOf,
      0.06,
    );
    expect([...paired.parents]).toEqual([['T1059', ['T1059.001', 'T1059.003']]]);
    // One pair of two families: 0.2 × 0.5 × 0.5 against 0.8 × 0.06 × 0.94.
    expect(paired.share).toBeCloseTo(0.05 / (0.05 + 0.8 * 0.06 * 0.94));
    // No pair among three families: the convention is unlikely.
    const unpaired = bothLevels(['T1566.001', 'T1059.001', 'T1071.001'], familyOf, 0.06);
    expect(unpaired.parents.size).toBe(3);
    expect(unpaired.share).toBeLessThan(0.05);
    // Nothing left out, nothing to propose.
    expect(bothLevels(['T1566', 'T1566.001', 'T1105'], familyOf, 0.06)).toEqual({
      share: 0,
      parents: new Map(),
    });
  });

  it('ranks the parents a both-levels list leaves out by how likely it is written so', () => {
    const sums = new Map([
      ['B', 1],
      ['C', 0.5],
    ]);
    const prior = new Map([
      ['B', 0.5],
      ['C', 0.5],
      ['P', 0.1],
    ]);
    const rank = (share: number) =>
      rankSuggestions({
        sums,
        prior,
        observed: new Set(['P.001']),
        family: { share, parents: new Map([['P', ['P.001']]]) },
        limit: 10,
      });
    const sure = rank(0.9);
    expect(sure[0]).toMatchObject({ technique: 'P', family: 0.9 });
    expect(sure[1]?.family).toBe(0);
    // Unlikely: the parent stays below what co-occurrence suggests, the others' scores barely move.
    const unlikely = rank(0.01);
    expect(unlikely.map((r) => r.technique)).toEqual(['B', 'C', 'P']);
    const none = rankSuggestions({ sums, prior, observed: new Set(['P.001']), limit: 10 });
    expect(unlikely[0]?.score).toBeCloseTo(none[0]!.score, 1);
    expect(none.map((r) => r.technique)).toEqual(['B', 'C', 'P']);
  });

  it('blends two rankings part by part, a technique one of them lacks counting 0 there', () => {
    const r = (technique: string, score: number) => ({
      technique,
      score,
      cooccurrence: score,
      popularity: 0,
      history: 0,
      family: 0,
    });
    const blended = blendRankings([r('A', 0.8), r('B', 0.4)], [r('B', 1), r('C', 0.5)], 0.5, 10);
    expect(blended.map((x) => [x.technique, x.score])).toEqual([
      ['B', 0.7],
      ['A', 0.4],
      ['C', 0.25],
    ]);
    expect(blended[0]?.cooccurrence).toBeCloseTo(0.7);
    expect(blendRankings([r('A', 0.8), r('B', 0.4)], [], 0, 1)).toEqual([r('A', 0.8)]);
  });

  it('ranks without the observed, within the kept candidates, history counted when given', () => {
    const sums = new Map([
      ['B', 0.6],
      ['C', 0.1],
    ]);
    const prior = new Map([
      ['A', 0.5],
      ['B', 0.5],
      ['C', 0.5],
      ['E', 1],
    ]);
    const plain = rankSuggestions({ sums, prior, observed: new Set(['A']), limit: 10 });
    expect(plain.map((r) => r.technique)).toEqual(['B', 'C', 'E']);
    expect(plain[0]?.score).toBeLessThanOrEqual(1);
    const kept = rankSuggestions({
      sums,
      prior,
      observed: new Set(['A']),
      limit: 10,
      keep: (t) => t !== 'B',
    });
    expect(kept.map((r) => r.technique)).toEqual(['C', 'E']);
    // The part of co-occurrence stays on the scale of all candidates (B's 0.6 is the top).
    expect(kept[0]?.cooccurrence).toBeCloseTo(0.1 / 0.6);
    const withHistory = rankSuggestions({
      sums,
      prior,
      observed: new Set(['A']),
      history: new Map([['E', 1]]),
      historyWeight: 2,
      limit: 1,
    });
    expect(withHistory[0]?.technique).toBe('E');
  });
});

// Tactics of one matrix in order: initial-access 0, execution 1, discovery 2, exfiltration 3.
const ORDER = ['initial-access', 'execution', 'discovery', 'exfiltration'];
// The technique-level model here is the other one without its sub-techniques.
const tech = (id: string, tactic: string, suggests: Array<[string, number]>): SnapshotTechnique => {
  const weights = suggests.map(([to, weight]) => ({ to, weight }));
  return {
    id,
    attackId: id,
    name: `name of ${id}`,
    parent: id.includes('.') ? id.split('.')[0]! : null,
    prior: { 'sub-technique': 0.5, technique: 0.5, mixed: 0.5 },
    tactics: [{ tactic, matrix: 'Enterprise ATT&CK', order: ORDER.indexOf(tactic) }],
    suggests: {
      'sub-technique': weights,
      technique: weights.filter((w) => !w.to.includes('.')),
      mixed: weights,
    },
  };
};
const snapshot = new Snapshot(
  'v1',
  [
    tech('T1566', 'initial-access', [
      ['T1059', 0.9],
      ['T1082', 0.3],
      ['T1041', 0.2],
    ]),
    tech('T1059', 'execution', [
      ['T1082', 0.8],
      ['T1041', 0.1],
    ]),
    tech('T1059.001', 'execution', [['T1082', 0.5]]),
    tech('T1082', 'discovery', [['T1041', 0.9]]),
    tech('T1041', 'exfiltration', []),
  ],
  [
    {
      id: 'g1',
      attackId: 'G0001',
      name: 'Wide',
      kind: 'group',
      firstSeen: null,
      lastSeen: null,
      techniques: ['T1566', 'T1059', 'T1082', 'T1041'],
    },
    {
      id: 'g2',
      attackId: 'G0002',
      name: 'Narrow',
      kind: 'group',
      firstSeen: null,
      lastSeen: null,
      techniques: ['T1566', 'T1059.001'],
    },
    {
      id: 's3',
      attackId: 'S0003',
      name: 'Fine',
      kind: 'software',
      firstSeen: null,
      lastSeen: null,
      techniques: ['T1059.001', 'T1082'],
    },
  ],
);

describe('the snapshot', () => {
  it('answers parents with parents: the technique model, actors counted through sub-techniques', () => {
    const coarse = snapshot.rank(['T1059'], 10);
    expect(coarse.level).toEqual({ granularity: 'technique', blend: 1 });
    expect(coarse.ranked.map((r) => r.technique).sort()).toEqual(['T1041', 'T1082', 'T1566']);
    // Narrow uses T1059 only through T1059.001: at this granularity it uses T1059 too.
    const t1566 = snapshot.explain(
      coarse.ranked.find((r) => r.technique === 'T1566')!,
      coarse,
    );
    expect(t1566.evidence.actors.map((a) => [a.id, a.shared])).toEqual([
      ['G0001', 1],
      ['G0002', 1],
    ]);
    const fine = snapshot.rank(['T1059.001'], 10);
    expect(fine.level).toEqual({ granularity: 'sub-technique', blend: 0 });
    expect(fine.ranked.map((r) => r.technique)).toContain('T1059');
    const again = snapshot.explain(
      fine.ranked.find((r) => r.technique === 'T1566')!,
      fine,
    );
    expect(again.evidence.actors.map((a) => [a.id, a.shared])).toEqual([['G0002', 1]]);
  });

  it('answers a set written at both levels with both models, each candidate explained at its level', () => {
    // The actors name T1059's family by the parent once in three: this set does so once in two.
    const mixed = snapshot.rank(['T1059', 'T1059.001'], 10);
    expect(mixed.level.granularity).toBe('mixed');
    // T1059's rate: (1 named + 2 × 1/3) / (3 + 2) = 1/3, twice in the set.
    expect(mixed.level.blend).toBeCloseTo((2 * (1 - 2 / 3)) / (3 - 2 / 3));
    expect(mixed.ranked[0]?.technique).toBe('T1082');
    const fine = snapshot.rank(['T1059.001', 'T1082'], 10);
    const t1082 = snapshot.explain(mixed.ranked[0]!, mixed);
    // T1059 points to T1082 in both models: listed once, with the stronger weight.
    expect(t1082.evidence.observed).toEqual([
      { technique: 'T1059', weight: 0.8 },
      { technique: 'T1059.001', weight: 0.5 },
    ]);
    const t1566 = snapshot.explain(
      mixed.ranked.find((r) => r.technique === 'T1566')!,
      mixed,
    );
    // A technique is supported at the technique level: Narrow uses T1059 through T1059.001.
    expect(t1566.evidence.actors.map((a) => [a.id, a.shared])).toEqual([
      ['G0001', 1],
      ['G0002', 1],
    ]);
    expect(fine.level.granularity).toBe('sub-technique');
  });

  it('proposes the parent a list leaves out, with the sub-techniques that point to it', () => {
    const actor = (id: string, techniques: string[]) => ({
      id,
      attackId: id,
      name: id,
      kind: 'group' as const,
      firstSeen: null,
      lastSeen: null,
      techniques,
    });
    const families = new Snapshot(
      'v1',
      [
        tech('T1566', 'initial-access', []),
        tech('T1566.001', 'initial-access', [['T1082', 0.4]]),
        tech('T1059', 'execution', []),
        tech('T1059.001', 'execution', [['T1082', 0.5]]),
        tech('T1082', 'discovery', []),
      ],
      // One family of the four with a sub-technique named has its parent beside it: rate 1/4.
      [actor('G1', ['T1566.001', 'T1059.001']), actor('G2', ['T1566', 'T1566.001', 'T1059.001'])],
    );
    const both = families.rank(['T1566', 'T1566.001', 'T1059.001'], 10);
    // One pair of two families: 0.2 × 0.5 × 0.5 against 0.8 × 0.25 × 0.75.
    expect(both.family.share).toBeCloseTo(0.05 / (0.05 + 0.15));
    const t1059 = families.explain(
      both.ranked.find((r) => r.technique === 'T1059')!,
      both,
    );
    expect(t1059.parts.family).toBe(0.25);
    expect(t1059.evidence.sub_techniques).toEqual(['T1059.001']);
    const t1082 = families.explain(
      both.ranked.find((r) => r.technique === 'T1082')!,
      both,
    );
    expect(t1082.parts.family).toBe(0);
    expect(t1082.evidence).not.toHaveProperty('sub_techniques');
    // The same list without the pair: its parents are no more likely than co-occurrence says.
    const one = families.rank(['T1566.001', 'T1059.001'], 10);
    expect(one.family.share).toBeLessThan(both.family.share);
    expect(one.ranked[0]?.technique).toBe('T1082');
  });

  it("counts a past incident's sub-techniques as their parents when answering with techniques", () => {
    const past = [{ incident: 'I-1', shared: 1, techniques: ['T1059', 'T1059.001', 'T1041'] }];
    const coarse = snapshot.rank(['T1059'], 10, past);
    expect(coarse.ranked.map((r) => r.technique)).not.toContain('T1059.001');
    expect(coarse.ranked.find((r) => r.technique === 'T1041')?.history).toBeGreaterThan(0);
    // At ATT&CK's granularity the incident's sub-technique is a candidate like any other.
    const fine = snapshot.rank(['T1566'], 10, past);
    expect(fine.ranked.find((r) => r.technique === 'T1059.001')?.history).toBeGreaterThan(0);
  });
});

describe('paths', () => {
  it('walks forward in matrix order and ends in the goal tactic', () => {
    const plan = likelyPaths(snapshot, ['T1566'], 'exfiltration', 5);
    expect(plan?.reached).toBe(false);
    expect(plan?.from).toEqual({ tactic: 'initial-access', order: 0 });
    for (const p of plan?.paths ?? []) {
      const orders = p.steps.map((s) => s.order);
      expect(orders).toEqual([...orders].sort((a, b) => a - b));
      expect(new Set(orders).size).toBe(orders.length);
      expect(p.steps.at(-1)?.tactic).toBe('exfiltration');
    }
    const best = plan?.paths[0]?.steps.map((s) => s.suggestion.technique);
    expect(best).toEqual(['T1059', 'T1082', 'T1041']);
  });

  it('goes straight to more of a goal already reached, and knows no unknown tactic', () => {
    const plan = likelyPaths(snapshot, ['T1566', 'T1082'], 'discovery', 5);
    expect(plan?.reached).toBe(true);
    expect(plan?.paths.every((p) => p.steps.length === 1)).toBe(true);
    expect(likelyPaths(snapshot, ['T1566'], 'teleportation', 5)).toBeNull();
  });
});

describe('candidate groups', () => {
  it('prefers the group that explains the incident, a family match counting half', () => {
    const c = candidateGroups(snapshot, ['T1566', 'T1059.001', 'T1082'], 5);
    expect(c.map((g) => g.id)).toEqual(['G0001', 'G0002']);
    expect(c[0]).toMatchObject({ shared: ['T1082', 'T1566'], related: ['T1059.001'] });
    expect(c[1]).toMatchObject({ shared: ['T1059.001', 'T1566'], related: [] });
    expect(candidateGroups(snapshot, ['T9999'], 5)).toEqual([]);
  });
});

describe('the report', () => {
  const killChain = layOut(
    'INC|1',
    [
      {
        mappingId: 'm1',
        kind: 'alert',
        entityId: 'A-1',
        technique: 'T1059.001',
        stixId: 'attack-pattern--970a3432-3237-47ad-bcca-7d8cbb217736',
        name: 'PowerShell',
        tactic: null,
        procedure: 'ran <script>alert(1)</script> | and\nmore',
        occurredAt: '2026-03-01T10:00:00Z',
        tactics: [
          {
            shortname: 'execution',
            id: 'TA0002',
            name: 'Execution',
            matrix: 'Enterprise ATT&CK',
            domain: 'enterprise-attack',
            order: 1,
          },
        ],
      },
    ],
    [
      {
        matrix: 'Enterprise ATT&CK',
        shortname: 'execution',
        id: 'TA0002',
        name: 'Execution',
        order: 1,
        techniques: 10,
      },
    ],
  );
  const report = buildReport({
    killChain,
    procedures: new Map([['T1059.001', ['ran <script>alert(1)</script> | and\nmore']]]),
    entities: { alerts: 1, observables: 0 },
    coverage: [{ id: 'x', technique: 'T1059.001', mitigations: [], detections: [] }],
    candidates: [],
    nextSteps: [],
    attack: [{ domain: 'enterprise-attack', version: '18.1' }],
    now: '2026-03-03T00:00:00Z',
  });

  it('links each technique to attack.mitre.org and lists what no detection covers', () => {
    expect(report.techniques[0]?.url).toBe('https://attack.mitre.org/techniques/T1059/001/');
    expect(attackUrl('G0016')).toBe('https://attack.mitre.org/groups/G0016/');
    expect(attackUrl('TA0002')).toBe('https://attack.mitre.org/tactics/TA0002/');
    expect(report.undetected).toEqual(['T1059.001']);
  });

  it('keeps markdown tables whole and analyst text inert', () => {
    const md = renderMarkdown(report);
    const row = md
      .split('\n')
      .find((l) => l.includes('](https://attack.mitre.org/techniques/T1059/001/)'));
    expect(row).toBeDefined();
    expect(row).toContain('\\<script\\>alert(1)\\</script\\> \\| and more');
    expect((row as string).replace(/\\\|/g, '').split('|')).toHaveLength(7);
  });

  it('escapes every value in the HTML page', () => {
    const html = renderHtml(report);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('incident INC|1');
  });
});

describe('Navigator layers', () => {
  it('builds 4.5 layers that the layer reader loads', () => {
    const layer = buildLayer({
      name: 'x',
      description: 'y',
      domain: 'enterprise-attack',
      attackVersion: '18.1',
      entries: [
        { technique: 'T1059.001', tactic: 'execution', score: 2, comment: 'two' },
        { technique: 'T1082', score: 1, comment: 'one', color: '#8e44adff' },
      ],
      gradient: { colors: HEAT, min: 0, max: 2 },
      legend: [{ label: 'seen', color: '#ff3333ff' }],
      metadata: [{ name: 'incident', value: 'I-1' }],
    });
    const read = readLayer(JSON.stringify(layer));
    expect(read.versions).toEqual({ attack: '18', navigator: '5.1.0', layer: '4.5' });
    expect(read.techniques.map((t) => [t.techniqueID, t.tactic, t.score])).toEqual([
      ['T1059.001', 'execution', 2],
      ['T1082', undefined, 1],
    ]);
    expect(read.techniques[0]?.links[0]?.url).toBe(
      'https://attack.mitre.org/techniques/T1059/001/',
    );
  });
});
