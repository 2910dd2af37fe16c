import { gzipSync } from 'node:zlib';
import { ImportService } from '../../src/attack/import-service';
import { MappingService } from '../../src/mappings/mapping-service';
import { loadConfig } from '../../src/shared/config';
import { InvalidBundleError } from '../../src/shared/errors';
import { SyncService } from '../../src/sync/sync-service';
import type { Graph } from '../../src/shared/neo4j';
import {
  asFetched,
  bundleBytes,
  FIXTURE,
  fixtureBundle,
  holdLease,
  manifests,
  silentLogger,
} from '../support/graph';
import { freshGraph } from '../support/graph';

let graph: Graph;
let importer: ImportService;

beforeAll(async () => {
  graph = await freshGraph();
  importer = new ImportService(graph, silentLogger, 5);
});
afterAll(() => graph.close());

async function snapshot(): Promise<{ nodes: string[]; edges: string[] }> {
  const nodes = await graph.read<{ line: string }>(
    `MATCH (n:AttackObject)
     RETURN reduce(s = '', l IN labels(n) | s + ':' + l) + ' ' + coalesce(n.attack_id, n.type)
            + ' r=' + n.revoked + ' d=' + n.deprecated AS line`,
  );
  const edges = await graph.read<{ line: string }>(
    `MATCH (a:AttackObject)-[r]->(b:AttackObject)
     RETURN coalesce(a.attack_id, a.type) + ' ' + type(r) + ' ' + coalesce(b.attack_id, b.type) AS line`,
  );
  return { nodes: nodes.map((n) => n.line).sort(), edges: edges.map((e) => e.line).sort() };
}

describe('importing the fixture bundle', () => {
  let first: Awaited<ReturnType<ImportService['importBytes']>>;

  beforeAll(async () => {
    await graph.write('MATCH (n) DETACH DELETE n');
    first = await importer.importBytes(asFetched(fixtureBundle(), 'fixture'));
  });

  it('reports every object as added, by type', () => {
    expect(first.changed).toBe(true);
    expect(first.domain).toBe('enterprise-attack');
    expect(first.version).toBe('18.1');
    expect(first.totals).toEqual({
      added: 43,
      modified: 0,
      unchanged: 0,
      revoked: 0,
      deprecated: 0,
      removed: 0,
    });
    expect(first.byType['attack-pattern']?.added).toBe(7);
    expect(first.byType.relationship?.added).toBe(16);
    expect(first.skipped).toBe(0);
  });

  it('creates exactly the expected nodes with their labels and flags', async () => {
    const { nodes } = await snapshot();
    expect(nodes).toEqual(
      [
        ':AttackObject:Analytic AN1252 r=false d=false',
        ':AttackObject:Campaign C0024 r=false d=false',
        ':AttackObject:Collection x-mitre-collection r=false d=false',
        ':AttackObject:DataComponent DC0016 r=false d=false',
        ':AttackObject:DataComponent DC0032 r=false d=false',
        ':AttackObject:DataComponent DC0034 r=false d=false',
        ':AttackObject:DataComponent DC0064 r=false d=false',
        ':AttackObject:DetectionStrategy DET0455 r=false d=false',
        ':AttackObject:Group G0016 r=false d=false',
        ':AttackObject:Identity identity r=false d=false',
        ':AttackObject:MarkingDefinition marking-definition r=false d=false',
        ':AttackObject:Matrix enterprise-attack r=false d=false',
        ':AttackObject:Mitigation M1042 r=false d=false',
        ':AttackObject:Mitigation M1049 r=false d=false',
        ':AttackObject:Mitigation T1143 r=false d=true',
        ':AttackObject:Mitigation T1064 r=false d=true',
        ':AttackObject:Software:Tool S0002 r=false d=false',
        ':AttackObject:Tactic TA0002 r=false d=false',
        ':AttackObject:Tactic TA0003 r=false d=false',
        ':AttackObject:Tactic TA0005 r=false d=false',
        ':AttackObject:Technique T1059 r=false d=false',
        ':AttackObject:Technique T1064 r=false d=true',
        ':AttackObject:Technique T1143 r=true d=false',
        ':AttackObject:Technique T1564 r=false d=false',
        ':AttackObject:Technique:SubTechnique T1059.001 r=false d=false',
        ':AttackObject:Technique:SubTechnique T1059.003 r=false d=false',
        ':AttackObject:Technique:SubTechnique T1564.003 r=false d=false',
      ].sort(),
    );
  });

  it('creates one edge per STIX relationship plus the derived edges', async () => {
    const { edges } = await snapshot();
    expect(edges).toEqual(
      [
        'C0024 ATTRIBUTED_TO G0016',
        'C0024 USES S0002',
        'C0024 USES T1059.001',
        'C0024 USES T1059.003',
        'DET0455 DETECTS T1059.001',
        'AN1252 USES_DATA_COMPONENT DC0016',
        'AN1252 USES_DATA_COMPONENT DC0032',
        'AN1252 USES_DATA_COMPONENT DC0034',
        'AN1252 USES_DATA_COMPONENT DC0064',
        'DET0455 HAS_ANALYTIC AN1252',
        'G0016 USES S0002',
        'G0016 USES T1059.001',
        'M1042 MITIGATES T1059',
        'M1042 MITIGATES T1059.001',
        'M1049 MITIGATES T1059',
        'M1049 MITIGATES T1059.001',
        'M1049 MITIGATES T1564',
        'T1059 IN_TACTIC TA0002',
        'T1059.001 IN_TACTIC TA0002',
        'T1059.001 SUBTECHNIQUE_OF T1059',
        'T1059.003 IN_TACTIC TA0002',
        'T1059.003 SUBTECHNIQUE_OF T1059',
        'T1064 IN_TACTIC TA0002',
        'T1064 IN_TACTIC TA0005',
        'T1143 IN_TACTIC TA0005',
        'T1143 REVOKED_BY T1564.003',
        'T1564 IN_TACTIC TA0005',
        'T1564.003 IN_TACTIC TA0005',
        'T1564.003 SUBTECHNIQUE_OF T1564',
        'enterprise-attack HAS_TACTIC TA0002',
        'enterprise-attack HAS_TACTIC TA0003',
        'enterprise-attack HAS_TACTIC TA0005',
      ].sort(),
    );
  });

  it('keeps the full STIX JSON, the relationship text and the kill-chain order', async () => {
    const [t] = await graph.read<{ stix: string; tactics: string[] }>(
      `MATCH (t:Technique {attack_id: 'T1059.001'}) RETURN t.stix AS stix, t.tactic_shortnames AS tactics`,
    );
    const original = fixtureBundle().objects.find((o) => o.id === JSON.parse(t!.stix).id);
    expect(JSON.parse(t!.stix)).toEqual(original);
    expect(t!.tactics).toEqual(['execution']);
    const order = await graph.read<{ id: string }>(
      `MATCH (:Matrix)-[h:HAS_TACTIC]->(t:Tactic) RETURN t.attack_id AS id ORDER BY h.order`,
    );
    expect(order.map((o) => o.id)).toEqual(['TA0002', 'TA0003', 'TA0005']);
    const [uses] = await graph.read<{ description: string; modified: string }>(
      `MATCH (:Group {attack_id: 'G0016'})-[r:USES]->(:Technique {attack_id: 'T1059.001'})
       RETURN r.description AS description, toString(r.modified) AS modified`,
    );
    expect(uses!.description).toContain('PowerShell');
    expect(uses!.modified).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('changes nothing when the same bundle is imported again', async () => {
    const before = await snapshot();
    const again = await importer.importBytes(asFetched(fixtureBundle(), 'fixture'));
    expect(again.changed).toBe(false);
    expect(again.totals).toEqual({
      added: 0,
      modified: 0,
      unchanged: 43,
      revoked: 0,
      deprecated: 0,
      removed: 0,
    });
    expect(await snapshot()).toEqual(before);
  });

  it('rewrites every object with force and still ends with the same graph', async () => {
    const before = await snapshot();
    const forced = await importer.importBytes(asFetched(fixtureBundle(), 'fixture'), {
      force: true,
    });
    expect(forced.changed).toBe(true);
    expect(forced.totals.unchanged).toBe(43);
    expect(await snapshot()).toEqual(before);
  });

  it('detects a content change that keeps the same modified timestamp', async () => {
    const bundle = fixtureBundle();
    const group = bundle.objects.find((o) => o.type === 'intrusion-set')!;
    group.x_mitre_domains = ['enterprise-attack', 'mobile-attack'];
    const r = await importer.importBytes(asFetched(bundle));
    expect(r.totals.modified).toBe(1);
    expect(r.byType['intrusion-set']?.modified).toBe(1);
    const [g] = await graph.read<{ domains: string[] }>(
      `MATCH (g:Group {attack_id: 'G0016'}) RETURN g.domains AS domains`,
    );
    expect(g!.domains).toEqual(['enterprise-attack', 'mobile-attack']);
    await importer.importBytes(asFetched(fixtureBundle()));
  });
});

describe('failed imports leave the previous data intact', () => {
  // Each test from the fixture as imported: some change the graph on purpose.
  beforeEach(async () => {
    await graph.write('MATCH (n) DETACH DELETE n');
    await importer.importBytes(asFetched(fixtureBundle(), 'fixture'));
  });

  it('rejects a truncated gzip', async () => {
    const before = await snapshot();
    const gz = gzipSync(Buffer.from(JSON.stringify(fixtureBundle())));
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    await expect(importer.importBytes(bundleBytes(cut, 'cut.json.gz'))).rejects.toThrow(
      /gzip data is corrupt or truncated/,
    );
    expect(await snapshot()).toEqual(before);
  });

  it('rejects invalid JSON', async () => {
    const before = await snapshot();
    await expect(
      importer.importBytes(bundleBytes(Buffer.from('{"type": "bundle", "objects": ['), 'bad.json')),
    ).rejects.toThrow(/not valid JSON/);
    expect(await snapshot()).toEqual(before);
  });

  it('rejects something that is not a bundle', async () => {
    await expect(importer.importBytes(asFetched({ type: 'report', objects: {} }))).rejects.toThrow(
      InvalidBundleError,
    );
  });

  it('rolls back everything when the write fails halfway', async () => {
    const before = await snapshot();
    const bundle = fixtureBundle();
    bundle.objects = bundle.objects.filter(
      (o) => o.type !== 'course-of-action' && !String(o.id).startsWith('relationship--0'),
    );
    let batches = 0;
    await expect(
      importer.importBytes(asFetched(bundle), {
        onProgress: (p) => {
          // The second batch: the first (objects deleted) is already written.
          if (p.phase !== 'parse' && ++batches === 2)
            throw new Error('simulated failure mid-write');
        },
      }),
    ).rejects.toThrow('simulated failure mid-write');
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(await snapshot()).toEqual(before);
  });

  it('in strict mode rejects a bundle with an invalid object and writes nothing', async () => {
    const before = await snapshot();
    const bundle = fixtureBundle();
    bundle.objects.push({
      type: 'attack-pattern',
      id: 'attack-pattern--not-a-uuid',
      name: 'broken',
    });
    await expect(importer.importBytes(asFetched(bundle), { strict: true })).rejects.toThrow(
      /strict mode: 1 invalid object/,
    );
    expect(await snapshot()).toEqual(before);
  });

  it('in lenient mode skips the invalid object, reports it and imports the rest', async () => {
    const bundle = fixtureBundle();
    bundle.objects.push({
      type: 'attack-pattern',
      id: 'attack-pattern--not-a-uuid',
      name: 'broken',
    });
    const r = await importer.importBytes(asFetched(bundle));
    expect(r.skipped).toBe(1);
    expect(r.issues).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        object: 'attack-pattern--not-a-uuid',
        path: 'id',
      }),
    );
    expect(r.changed).toBe(false);
  });

  it('in lenient mode too, refuses a flood of invalid objects whole and writes nothing', async () => {
    const before = await snapshot();
    const bundle = fixtureBundle();
    // A changed object the flood must not let through, and relationships to nowhere.
    const tactic = bundle.objects.find((o) => o.type === 'x-mitre-tactic') as { name: string };
    tactic.name = 'renamed by a lying source';
    for (let i = 0; i < 1_001; i++) {
      bundle.objects.push({
        type: 'relationship',
        id: `relationship--00000000-0000-4000-8000-ffff${String(i).padStart(8, '0')}`,
        created: '2025-01-01T00:00:00.000Z',
        modified: '2025-01-01T00:00:00.000Z',
        relationship_type: 'uses',
        source_ref: 'intrusion-set--00000000-0000-4000-8000-000000000000',
        target_ref: 'attack-pattern--00000000-0000-4000-8000-000000000000',
      });
    }
    await expect(importer.importBytes(asFetched(bundle))).rejects.toThrow(
      /more than 1000 invalid objects .*found neither in the bundle nor in the graph\): the bundle is refused whole/,
    );
    expect(await snapshot()).toEqual(before);
  });

  it('skips relationship objects with relationships turned off and keeps the existing edges', async () => {
    const before = await snapshot();
    const bundle = fixtureBundle();
    bundle.objects = bundle.objects.filter((o) => o.type !== 'relationship');
    const r = await importer.importBytes(asFetched(bundle), { relationships: false });
    expect(r.relationships).toBe(false);
    expect(r.byType.relationship).toBeUndefined();
    expect(await snapshot()).toEqual(before);
  });

  it('removes objects that a newer bundle of the same domain no longer holds', async () => {
    const bundle = fixtureBundle();
    const campaign = bundle.objects.find((o) => o.type === 'campaign')!;
    bundle.objects = bundle.objects.filter(
      (o) => o.id !== campaign.id && o.source_ref !== campaign.id && o.target_ref !== campaign.id,
    );
    const r = await importer.importBytes(asFetched(bundle));
    expect(r.byType.campaign?.removed).toBe(1);
    expect(r.byType.relationship?.removed).toBe(4);
    const left = await graph.read(`MATCH (c:Campaign) RETURN c`);
    expect(left).toHaveLength(0);
  });

  it('derives the edges of an unchanged object once the object it names arrives', async () => {
    const analytic = (b: ReturnType<typeof fixtureBundle>) =>
      b.objects.find((o) => o.type === 'x-mitre-analytic') as { id: string };
    const without = fixtureBundle();
    without.objects = without.objects.filter((o) => o.id !== analytic(without).id);
    await importer.importBytes(asFetched(without));
    const edge = () =>
      graph.read(
        `MATCH (:DetectionStrategy)-[r:HAS_ANALYTIC]->(:Analytic {stix_id: $id}) RETURN r`,
        {
          id: analytic(fixtureBundle()).id,
        },
      );
    expect(await edge()).toHaveLength(0);
    const r = await importer.importBytes(asFetched(fixtureBundle()));
    expect(r.byType['x-mitre-detection-strategy']?.unchanged).toBe(1);
    expect(await edge()).toHaveLength(1);
  });
});

describe('the domain manifest', () => {
  const ran: string[] = [];
  let g: Graph;
  let imp: ImportService;
  /** The fixture with one technique's description changed. */
  const edited = (text: string) => {
    const b = fixtureBundle();
    const t = b.objects.find((o) => o.type === 'attack-pattern')!;
    t.description = text;
    return b;
  };
  const rebuilt = () => ran.includes('attack/read-elements');

  beforeAll(async () => {
    g = await freshGraph((name) => ran.push(name));
    imp = new ImportService(g, silentLogger, 5);
  });
  beforeEach(async () => {
    await g.write('MATCH (n) DETACH DELETE n');
    await imp.importBytes(asFetched(fixtureBundle()));
  });
  afterAll(() => g.close());

  it('is written with the release and says what the graph holds', async () => {
    const { stored, fromGraph, rawMissing } = await manifests(g);
    expect(stored).toEqual(fromGraph);
    expect(rawMissing).toBe(0);
    expect(fromGraph.get('enterprise-attack')?.nodes.size).toBe(27);
  });

  it('lets an update read only what changed, not the whole domain', async () => {
    ran.length = 0;
    const r = await imp.importBytes(asFetched(edited('first edit')));
    expect(r.totals.modified).toBe(1);
    expect(r.totals.unchanged).toBe(42);
    expect(rebuilt()).toBe(false);
    const { stored, fromGraph } = await manifests(g);
    expect(stored).toEqual(fromGraph);
  });

  it('is rebuilt from the graph when missing (written before manifests), with the same outcome', async () => {
    await g.write('MATCH (d:AttackDomain) REMOVE d.manifest');
    ran.length = 0;
    const r = await imp.importBytes(asFetched(edited('second edit')));
    expect(rebuilt()).toBe(true);
    expect(r.totals.modified).toBe(1);
    expect(r.totals.unchanged).toBe(42);
    const { stored, fromGraph, rawMissing } = await manifests(g);
    expect(stored).toEqual(fromGraph);
    expect(rawMissing).toBe(0);
  });

  it('is rebuilt by a forced import, which repairs a graph changed behind its back', async () => {
    await imp.importBytes(asFetched(edited('second edit')));
    // An edit outside ttpgraph: the manifest no longer says what the node holds.
    await g.write(
      `MATCH (t:Technique) WHERE t.description = 'second edit'
       SET t.hash = 'tampered', t.source_hashes = ['enterprise-attack=tampered']`,
    );
    ran.length = 0;
    const forced = await imp.importBytes(asFetched(edited('second edit')), { force: true });
    expect(rebuilt()).toBe(true);
    expect(forced.totals.modified).toBe(1);
    const { stored, fromGraph } = await manifests(g);
    expect(stored).toEqual(fromGraph);
    const [t] = await g.read<{ hash: string }>(
      `MATCH (t:Technique) WHERE t.description = 'second edit' RETURN t.hash AS hash`,
    );
    expect(t!.hash).not.toBe('tampered');
  });
});

describe('the sync lease', () => {
  it('a release is written only by the holder of the lease, checked in its transaction', async () => {
    const g = await freshGraph();
    const imp = new ImportService(g, silentLogger, 50);
    try {
      const other = await holdLease(g, 'other-instance');
      // Without a lease of its own, an import takes it, and waits its turn for nobody.
      await expect(imp.importBytes(asFetched(fixtureBundle()))).rejects.toThrow(
        /another sync holds the lease \(other-instance/,
      );
      // A caller that says it holds the lease but does not (it expired and was taken over).
      await expect(
        imp.importBytes(asFetched(fixtureBundle()), { holder: 'me-once' }),
      ).rejects.toThrow(
        /no longer held by me-once: the release of enterprise-attack is not written/,
      );
      const [n] = await g.read<{ n: number }>(
        'MATCH (n) WHERE NOT n:SyncLease RETURN count(n) AS n',
      );
      expect(n?.n).toBe(0);
      await other.release();
      const done = await imp.importBytes(asFetched(fixtureBundle()));
      expect(done.changed).toBe(true);
      // And it gave the lease back.
      const [lease] = await g.read<{ owner: string | null }>(
        'MATCH (l:SyncLease) RETURN l.owner AS owner',
      );
      expect(lease?.owner ?? null).toBeNull();
    } finally {
      await g.close();
    }
  });
});

describe('the remap of mappings after a release', () => {
  it('is retried by the next sync until it succeeds', async () => {
    const g = await freshGraph();
    let failures = 1;
    const remaps: string[] = [];
    const imp = new ImportService(g, silentLogger, 50, async () => {
      if (failures-- > 0) throw new Error('Neo4j blinked');
      remaps.push('done');
      return new MappingService(g).applyRelease();
    });
    try {
      const pending = async () =>
        (
          await g.read<{ n: number }>(
            'MATCH (d:AttackDomain) WHERE d.remap_pending RETURN count(d) AS n',
          )
        )[0]?.n;
      expect((await imp.importBytes(asFetched(fixtureBundle()))).changed).toBe(true);
      expect(remaps).toEqual([]);
      expect(await pending()).toBe(1);
      const sync = new SyncService(g, imp, loadConfig(), silentLogger);
      const run = await sync.run({ trigger: 'cli', urls: [FIXTURE] });
      expect(run.state).not.toBe('failed');
      expect(remaps).toEqual(['done']);
      expect(await pending()).toBe(0);
    } finally {
      await g.close();
    }
  });
});
