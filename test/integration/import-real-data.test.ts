import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseBundle } from '../../src/attack/bundle';
import { AttackService } from '../../src/attack/attack-service';
import { ImportService, type ChangeReport } from '../../src/attack/import-service';
import { contentHash, derivedEdges } from '../../src/attack/model';
import { StatusService } from '../../src/attack/status-service';
import type { Graph } from '../../src/shared/neo4j';
import { ATTACK_DATA, attackData, freshGraph, manifests, silentLogger } from '../support/graph';

// Real MITRE releases from ../shared/attack-data; expected figures are those of its README.

// Enterprise's tactics in kill-chain order, as MITRE's matrix lists them.
const ENTERPRISE_TACTICS = [
  'TA0043',
  'TA0042',
  'TA0001',
  'TA0002',
  'TA0003',
  'TA0004',
  'TA0005',
  'TA0006',
  'TA0007',
  'TA0008',
  'TA0009',
  'TA0011',
  'TA0010',
  'TA0040',
];
let graph: Graph;
let importer: ImportService;
let status: StatusService;

beforeAll(async () => {
  graph = await freshGraph();
  importer = new ImportService(graph, silentLogger);
  status = new StatusService(graph);
});
afterAll(() => graph.close());

function counts(r: ChangeReport, type: string) {
  return r.byType[type];
}

/** The (id, content hash) pairs a bundle should leave in the graph, computed without Neo4j. */
function expectedHashes(file: string) {
  const parsed = parseBundle(readFileSync(path.join(ATTACK_DATA, file)));
  const nodes = parsed.objects.filter((o) => o.type !== 'relationship');
  const rels = parsed.objects.filter((o) => o.type === 'relationship');
  const derived = nodes.map(derivedEdges);
  return {
    nodes: nodes.map((o) => `${o.id} ${contentHash(o)}`).sort(),
    edges: rels.map((o) => `${o.id} ${contentHash(o)}`).sort(),
    // Derived edges whose target the bundle holds (MITRE's data has dangling ones).
    derived: derived
      .flatMap((d) => d.edges)
      .filter((e) => parsed.objects.some((o) => o.id === e.to)).length,
  };
}

async function graphHashes() {
  const nodes = await graph.read<{ line: string }>(
    `MATCH (n:AttackObject) RETURN n.stix_id + ' ' + n.hash AS line`,
  );
  const edges = await graph.read<{ line: string }>(
    `MATCH (:AttackObject)-[r]->(:AttackObject) WHERE r.stix_id IS NOT NULL RETURN r.stix_id + ' ' + r.hash AS line`,
  );
  return { nodes: nodes.map((n) => n.line).sort(), edges: edges.map((e) => e.line).sort() };
}

describe('Enterprise 17.1 → 18.0 → 18.1 as successive releases', () => {
  let r171: ChangeReport;
  let r180: ChangeReport;
  let r181: ChangeReport;

  beforeAll(async () => {
    r171 = await importer.importBytes(attackData('enterprise-attack-17.1.json.gz'));
    r180 = await importer.importBytes(attackData('enterprise-attack-18.0.json.gz'));
    r181 = await importer.importBytes(attackData('enterprise-attack-18.1.json.gz'));
  });

  it('imports 17.1 whole', () => {
    expect(r171.version).toBe('17.1');
    expect(r171.totals.added).toBe(22653);
    expect(counts(r171, 'relationship')?.added).toBe(20411);
  });

  it('reports 17.1 → 18.0 as MITRE changed it, content-only changes included', () => {
    expect(r180.version).toBe('18.0');
    expect(r180.totals).toEqual({
      added: 4243,
      modified: 1328,
      unchanged: 19203,
      revoked: 0,
      deprecated: 37,
      removed: 2122,
    });
    expect(counts(r180, 'attack-pattern')).toMatchObject({ added: 12, modified: 739 + 84 });
    expect(counts(r180, 'malware')).toMatchObject({ added: 29, modified: 50 + 16 });
    expect(counts(r180, 'relationship')).toMatchObject({
      added: 1761,
      modified: 262,
      removed: 2122,
    });
    expect(counts(r180, 'x-mitre-data-source')).toMatchObject({ modified: 37, deprecated: 37 });
    expect(counts(r180, 'x-mitre-detection-strategy')).toMatchObject({ added: 691 });
    expect(counts(r180, 'x-mitre-analytic')).toMatchObject({ added: 1739 });
  });

  it('reports 18.0 → 18.1 as a minor release', () => {
    expect(r181.totals).toEqual({
      added: 0,
      modified: 405,
      unchanged: 24367,
      revoked: 0,
      deprecated: 0,
      removed: 2,
    });
    expect(counts(r181, 'x-mitre-analytic')?.modified).toBe(324);
    expect(counts(r181, 'x-mitre-data-component')?.modified).toBe(71);
    expect(counts(r181, 'relationship')).toMatchObject({ modified: 1, removed: 2 });
  });

  it('ends with exactly the objects and relationships of 18.1', async () => {
    const expected = expectedHashes('enterprise-attack-18.1.json.gz');
    const actual = await graphHashes();
    expect(actual.nodes).toEqual(expected.nodes);
    expect(actual.edges).toEqual(expected.edges);
    const [derived] = await graph.read<{ n: number }>(
      `MATCH (:AttackObject)-[r]->(:AttackObject) WHERE r.derived AND type(r) <> 'IN_TACTIC' RETURN count(r) AS n`,
    );
    expect(derived!.n).toBe(expected.derived);
  });

  it('holds the counts of Enterprise 18.1', async () => {
    const s = await status.status(true);
    const ap = s.objects.find((o) => o.type === 'attack-pattern');
    expect(ap).toEqual({
      type: 'attack-pattern',
      total: 835,
      active: 691,
      revoked: 132,
      deprecated: 12,
    });
    const [t] = await graph.read<{ techniques: number; subs: number }>(
      `MATCH (t:Technique) WHERE NOT t.revoked AND NOT t.deprecated
       RETURN count(CASE WHEN NOT t:SubTechnique THEN 1 END) AS techniques, count(CASE WHEN t:SubTechnique THEN 1 END) AS subs`,
    );
    expect(t).toEqual({ techniques: 216, subs: 475 });
    expect(s.relationships).toEqual({
      'attributed-to': 25,
      detects: 691,
      mitigates: 1445,
      'revoked-by': 140,
      'subtechnique-of': 477,
      uses: 17270,
    });
    expect(s.domains).toEqual([
      expect.objectContaining({ domain: 'enterprise-attack', version: '18.1' }),
    ]);
    const tactics = s.detailed!.tactics.filter((x) => x.domain === 'enterprise-attack');
    expect(tactics.map((x) => x.tacticId)).toEqual(ENTERPRISE_TACTICS);
    // Every active technique sits in at least one tactic.
    const [orphans] = await graph.read<{ n: number }>(
      `MATCH (t:Technique) WHERE NOT t.revoked AND NOT t.deprecated AND NOT (t)-[:IN_TACTIC]->() RETURN count(t) AS n`,
    );
    expect(orphans!.n).toBe(0);
  });

  it('keeps the sub-technique edges that touch a revoked or deprecated technique', async () => {
    // MITRE's quirk: T1574.002 (revoked) and T1053.004 (deprecated) still have their parent edge.
    const rows = await graph.read<{ child: string }>(
      `MATCH (c:Technique)-[:SUBTECHNIQUE_OF]->(p:Technique)
       WHERE c.revoked OR c.deprecated OR p.revoked OR p.deprecated
       RETURN c.attack_id AS child ORDER BY child`,
    );
    expect(rows.map((r) => r.child)).toEqual(['T1053.004', 'T1574.002']);
  });

  it("draws Enterprise's matrix: 14 tactics in kill-chain order, active techniques only", async () => {
    const m = (await new AttackService(graph).detail('matrices', 'enterprise-attack', {
      followRevoked: false,
      stix: false,
      relatedLimit: 1,
    })) as {
      columns: Array<{
        tactic: { id: string };
        techniques: Array<{ id: string; subtechniques: Array<{ id: string }> }>;
      }>;
    };
    expect(m.columns.map((c) => c.tactic.id)).toEqual(ENTERPRISE_TACTICS);
    const execution = m.columns[3]?.techniques ?? [];
    const t1059 = execution.find((t) => t.id === 'T1059');
    expect(t1059?.subtechniques.map((s) => s.id)).toContain('T1059.001');
    // Revoked and deprecated ones are not drawn, anywhere.
    const drawn = m.columns.flatMap((c) =>
      c.techniques.flatMap((t) => [t.id, ...t.subtechniques.map((s) => s.id)]),
    );
    expect(drawn).not.toContain('T1574.002');
    expect(drawn).not.toContain('T1053.004');
  });

  it('changes nothing when 18.1 is imported again', async () => {
    const again = await importer.importBytes(attackData('enterprise-attack-18.1.json.gz'));
    expect(again.changed).toBe(false);
    expect(again.totals.unchanged).toBe(24772);
  });
});

describe('Enterprise, Mobile and ICS in one graph', () => {
  beforeAll(async () => {
    await importer.importBytes(attackData('mobile-attack-18.1.json.gz'));
    await importer.importBytes(attackData('ics-attack-18.1.json.gz'));
  });

  it('records each domain with its version', async () => {
    const s = await status.status();
    expect(s.domains.map((d) => [d.domain, d.version])).toEqual([
      ['enterprise-attack', '18.1'],
      ['ics-attack', '18.1'],
      ['mobile-attack', '18.1'],
    ]);
  });

  it('merges an object present in several bundles into one node with the union of domains', async () => {
    const [shared] = await graph.read<{ n: number }>(
      `MATCH (n:AttackObject) WHERE size(n.sources) > 1 RETURN count(n) AS n`,
    );
    expect(shared!.n).toBeGreaterThan(100);
    const [dupes] = await graph.read<{ n: number }>(
      `MATCH (n:AttackObject) WITH n.stix_id AS id, count(*) AS c WHERE c > 1 RETURN count(*) AS n`,
    );
    expect(dupes!.n).toBe(0);
    // The one group whose bundles disagree on x_mitre_domains holds both.
    const groups = await graph.read<{ domains: string[] }>(
      `MATCH (g:Group) WHERE 'mobile-attack' IN g.sources AND 'enterprise-attack' IN g.sources RETURN g.domains AS domains`,
    );
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups)
      expect(g.domains).toEqual(expect.arrayContaining(['enterprise-attack', 'mobile-attack']));
  });

  it('links mobile techniques to mobile tactics and ICS assets through targets edges', async () => {
    const [mobile] = await graph.read<{ wrong: number; right: number }>(
      `MATCH (t:Technique)-[r:IN_TACTIC {domain: 'mobile-attack'}]->(ta:Tactic)
       RETURN count(CASE WHEN NOT 'mobile-attack' IN ta.domains THEN 1 END) AS wrong, count(*) AS right`,
    );
    expect(mobile!.wrong).toBe(0);
    expect(mobile!.right).toBeGreaterThan(100);
    const [targets] = await graph.read<{ n: number }>(
      `MATCH (:Technique)-[r:TARGETS]->(:Asset) RETURN count(r) AS n`,
    );
    expect(targets!.n).toBe(685);
  });

  it("keeps each domain's manifest equal to what the graph's elements say", async () => {
    const { stored, fromGraph } = await manifests(graph);
    expect([...stored.keys()].sort()).toEqual(['enterprise-attack', 'ics-attack', 'mobile-attack']);
    for (const [domain, m] of fromGraph) expect(stored.get(domain)).toEqual(m);
    expect(fromGraph.get('enterprise-attack')?.edges.size).toBe(
      expectedHashes('enterprise-attack-18.1.json.gz').edges.length,
    );
  });

  it('re-importing one domain leaves what another still holds', async () => {
    const before = await graph.read<{ n: number }>(`MATCH (n:AttackObject) RETURN count(n) AS n`);
    const again = await importer.importBytes(attackData('enterprise-attack-18.1.json.gz'));
    expect(again.changed).toBe(false);
    const after = await graph.read<{ n: number }>(`MATCH (n:AttackObject) RETURN count(n) AS n`);
    expect(after).toEqual(before);
    const [mobileOnly] = await graph.read<{ n: number }>(
      `MATCH (n:AttackObject) WHERE n.sources = ['mobile-attack'] RETURN count(n) AS n`,
    );
    const ids = (file: string) =>
      new Set(
        parseBundle(readFileSync(path.join(ATTACK_DATA, file)))
          .objects.filter((o) => o.type !== 'relationship')
          .map((o) => o.id),
      );
    const enterprise = ids('enterprise-attack-18.1.json.gz');
    const ics = ids('ics-attack-18.1.json.gz');
    const onlyMobile = [...ids('mobile-attack-18.1.json.gz')].filter(
      (id) => !enterprise.has(id) && !ics.has(id),
    );
    expect(mobileOnly!.n).toBe(onlyMobile.length);
  });
});
