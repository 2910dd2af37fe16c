import type { Snapshot } from './next-steps';

export interface CandidateGroup {
  id: string;
  name: string;
  /** 0–1: the share of the incident's rarity-weighted techniques the group is known for. */
  score: number;
  /** Incident techniques the group uses exactly. */
  shared: string[];
  /** Incident sub-techniques whose technique family the group uses through another member. */
  related: string[];
  group_techniques: number;
}

/** What a family match counts for against an exact one. */
const FAMILY = 0.5;

const family = (attackId: string) => attackId.split('.')[0] as string;

/**
 * ATT&CK groups ranked by weighted overlap with an incident's techniques (ATT&CK ids): each
 * shared technique counts by its rarity among groups (idf), a technique whose family (parent and
 * sub-techniques) the group uses otherwise counts half; the score is the share of the incident so
 * explained, tempered a little by how much of the group's repertoire that is (so that a group
 * known for everything does not win every incident).
 */
export function candidateGroups(
  snapshot: Snapshot,
  incident: string[],
  limit: number,
): CandidateGroup[] {
  const groups = snapshot.actors
    .filter((a) => a.kind === 'group')
    .map((a) => ({
      a,
      ids: new Set(
        a.techniques
          .map((t) => snapshot.techniques.get(t)?.attackId)
          .filter((x) => x !== undefined),
      ),
    }));
  const df = new Map<string, number>();
  const familyDf = new Map<string, number>();
  for (const g of groups) {
    for (const t of g.ids) df.set(t, (df.get(t) ?? 0) + 1);
    for (const f of new Set([...g.ids].map(family))) familyDf.set(f, (familyDf.get(f) ?? 0) + 1);
  }
  const idf = (n: number) => Math.log(1 + groups.length / Math.max(1, n));
  const weight = (t: string) => idf(df.get(t) ?? familyDf.get(family(t)) ?? 0);
  const wanted = [...new Set(incident)];
  const total = wanted.reduce((s, t) => s + weight(t), 0);
  if (total === 0) return [];
  const out: CandidateGroup[] = [];
  for (const { a, ids } of groups) {
    const families = new Set([...ids].map(family));
    const shared: string[] = [];
    const related: string[] = [];
    let explained = 0;
    for (const t of wanted) {
      if (ids.has(t)) {
        shared.push(t);
        explained += weight(t);
      } else if (families.has(family(t))) {
        related.push(t);
        explained += FAMILY * weight(t);
      }
    }
    if (shared.length === 0 && related.length === 0) continue;
    const repertoire = [...ids].reduce((s, t) => s + weight(t), 0);
    const recall = explained / total;
    const precision = explained / Math.max(explained, repertoire);
    out.push({
      id: a.attackId,
      name: a.name,
      score: Math.round(recall * precision ** 0.25 * 10_000) / 10_000,
      shared: shared.sort(),
      related: related.sort(),
      group_techniques: ids.size,
    });
  }
  return out.sort((x, y) => y.score - x.score || x.id.localeCompare(y.id)).slice(0, limit);
}
