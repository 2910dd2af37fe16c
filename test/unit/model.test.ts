import { detectDomain } from '../../src/attack/import-service';
import {
  attackReference,
  canonicalJson,
  contentHash,
  derivedEdges,
  edgeType,
  killChainDomain,
  nodeRow,
  typeLabels,
} from '../../src/attack/model';
import type { StixObject } from '../../src/attack/stix-schema';

const obj = (o: Record<string, unknown>) => o as unknown as StixObject;

describe('the graph model', () => {
  it('labels objects by type, sub-techniques twice, unknown types by name', () => {
    expect(typeLabels(obj({ type: 'attack-pattern' }))).toEqual(['Technique']);
    expect(typeLabels(obj({ type: 'attack-pattern', x_mitre_is_subtechnique: true }))).toEqual([
      'Technique',
      'SubTechnique',
    ]);
    expect(typeLabels(obj({ type: 'malware' }))).toEqual(['Software', 'Malware']);
    expect(typeLabels(obj({ type: 'x-acme-thing' }))).toEqual(['StixXAcmeThing']);
  });

  it('hashes content, not key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(contentHash({ a: 1, b: 2 })).toBe(contentHash({ b: 2, a: 1 }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
  });

  it('finds the ATT&CK id among external references of any ATT&CK domain', () => {
    const refs = [
      { source_name: 'capec', external_id: 'CAPEC-1' },
      {
        source_name: 'mitre-mobile-attack',
        external_id: 'T1406',
        url: 'https://attack.mitre.org/techniques/T1406',
      },
    ];
    expect(attackReference(obj({ external_references: refs }))).toEqual({
      id: 'T1406',
      url: 'https://attack.mitre.org/techniques/T1406',
    });
    expect(attackReference(obj({}))).toEqual({ id: undefined, url: undefined });
  });

  it('maps kill chains to domains and relationship types to edge types', () => {
    expect(killChainDomain('mitre-attack')).toBe('enterprise-attack');
    expect(killChainDomain('mitre-ics-attack')).toBe('ics-attack');
    expect(edgeType('subtechnique-of')).toBe('SUBTECHNIQUE_OF');
    expect(edgeType('x-acme-related-to')).toBe('X_ACME_RELATED_TO');
  });

  it('derives tactic, analytic, data-source and generic reference edges', () => {
    const d = derivedEdges(
      obj({
        id: 'attack-pattern--1',
        type: 'attack-pattern',
        kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'execution' }],
        x_mitre_analytic_refs: ['x-mitre-analytic--a', 'x-mitre-analytic--b'],
        x_mitre_data_source_ref: '',
        x_acme_owner_ref: 'identity--x',
        created_by_ref: 'identity--mitre',
      }),
    );
    expect(d.tactics).toEqual([
      { from: 'attack-pattern--1', shortname: 'execution', domain: 'enterprise-attack' },
    ]);
    expect(d.edges).toEqual([
      {
        from: 'attack-pattern--1',
        type: 'HAS_ANALYTIC',
        to: 'x-mitre-analytic--a',
        props: { order: 0 },
      },
      {
        from: 'attack-pattern--1',
        type: 'HAS_ANALYTIC',
        to: 'x-mitre-analytic--b',
        props: { order: 1 },
      },
      {
        from: 'attack-pattern--1',
        type: 'REFERS_TO',
        to: 'identity--x',
        props: { field: 'x_acme_owner_ref' },
      },
    ]);
  });

  it('drops null properties so that SET n = props is exact', () => {
    const row = nodeRow(
      obj({ id: 'x-mitre-tactic--1', type: 'x-mitre-tactic', x_mitre_shortname: 'execution' }),
      { json: '{}', hash: 'h' },
    );
    expect(row.props).not.toHaveProperty('description');
    expect(row.props).toMatchObject({
      shortname: 'execution',
      revoked: false,
      deprecated: false,
      hash: 'h',
    });
  });

  it('tells the domain from the argument, the active matrix, then the objects', () => {
    const matrix = obj({
      type: 'x-mitre-matrix',
      external_references: [{ source_name: 'mitre-attack', external_id: 'ics-attack' }],
    });
    const old = obj({
      type: 'x-mitre-matrix',
      x_mitre_deprecated: true,
      external_references: [{ source_name: 'mitre-attack', external_id: 'old' }],
    });
    expect(detectDomain([matrix], 'mobile-attack')).toBe('mobile-attack');
    expect(detectDomain([old, matrix])).toBe('ics-attack');
    expect(detectDomain([obj({ type: 'tool', x_mitre_domains: ['mobile-attack'] })])).toBe(
      'mobile-attack',
    );
    expect(() => detectDomain([obj({ type: 'tool' })])).toThrow(/pass --domain/);
    // Relationships do not vote: one the graph holds byte for byte is never parsed.
    const rel = obj({ type: 'relationship', x_mitre_domains: ['ics-attack'] });
    expect(
      detectDomain([rel, rel, obj({ type: 'tool', x_mitre_domains: ['mobile-attack'] })]),
    ).toBe('mobile-attack');
  });
});
