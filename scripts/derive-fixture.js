#!/usr/bin/env node
// Derives test/fixtures/enterprise-mini.json from MITRE's Enterprise ATT&CK 18.1 bundle: a small,
// self-contained slice with every kind of object and edge the graph model has.
// Usage: node scripts/derive-fixture.js ../shared/attack-data/enterprise-attack-18.1.json.gz
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const WANTED = [
  'TA0002',
  'TA0003',
  'TA0005', // Execution, Persistence, Defense Evasion
  'T1059',
  'T1059.001',
  'T1059.003', // a technique with two sub-techniques
  'T1564',
  'T1564.003',
  'T1143', // Hidden Window: T1143 is revoked by T1564.003
  'T1064', // Scripting: deprecated
  'M1042',
  'M1049', // mitigations
  'G0016',
  'S0002',
  'C0024', // APT29, Mimikatz, SolarWinds Compromise
  'DET0455', // the detection strategy for T1059.001
];

const source = process.argv[2];
if (!source) {
  console.error('usage: derive-fixture.js <enterprise-attack-18.1.json[.gz]>');
  process.exit(2);
}
const raw = fs.readFileSync(source);
const bundle = JSON.parse((raw[0] === 0x1f ? zlib.gunzipSync(raw) : raw).toString('utf8'));
const attackId = (o) =>
  (o.external_references || []).find((r) => r.source_name === 'mitre-attack')?.external_id;

const keep = new Map();
for (const o of bundle.objects) {
  if (WANTED.includes(attackId(o)) || ['identity', 'marking-definition'].includes(o.type))
    keep.set(o.id, o);
}
// The detection strategy's analytics, and the data components those analytics read.
for (const o of [...keep.values()]) {
  for (const ref of o.x_mitre_analytic_refs || []) {
    const a = bundle.objects.find((x) => x.id === ref);
    keep.set(a.id, a);
    for (const ls of a.x_mitre_log_source_references || []) {
      const dc = bundle.objects.find((x) => x.id === ls.x_mitre_data_component_ref);
      if (dc) keep.set(dc.id, dc);
    }
  }
}
const matrix = bundle.objects.find((o) => o.type === 'x-mitre-matrix');
keep.set(matrix.id, { ...matrix, tactic_refs: matrix.tactic_refs.filter((r) => keep.has(r)) });
for (const r of bundle.objects) {
  if (r.type === 'relationship' && keep.has(r.source_ref) && keep.has(r.target_ref))
    keep.set(r.id, r);
}
const collection = bundle.objects.find((o) => o.type === 'x-mitre-collection');
keep.set(collection.id, {
  ...collection,
  x_mitre_contents: collection.x_mitre_contents.filter((c) => keep.has(c.object_ref)),
});

const out = {
  type: 'bundle',
  id: 'bundle--0d1c6f0e-5b43-4d4f-9a77-0c57f1c4f2a1',
  objects: bundle.objects.filter((o) => keep.has(o.id)).map((o) => keep.get(o.id)),
};
const target = path.join(__dirname, '..', 'test', 'fixtures', 'enterprise-mini.json');
fs.writeFileSync(target, JSON.stringify(out, null, 1) + '\n');
const counts = {};
for (const o of out.objects) counts[o.type] = (counts[o.type] || 0) + 1;
console.log(target, counts);
