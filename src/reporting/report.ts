import type { CandidateGroup } from './candidates';
import type { KillChain } from './reporting-service';

/** attack.mitre.org's page of an ATT&CK id (T1059.001 → techniques/T1059/001/). */
export function attackUrl(attackId: string): string {
  const [base, sub] = attackId.split('.');
  const section =
    {
      T: 'techniques',
      TA: 'tactics',
      M: 'mitigations',
      G: 'groups',
      S: 'software',
      C: 'campaigns',
    }[/^[A-Z]+/.exec(attackId)?.[0] ?? ''] ?? 'techniques';
  return `https://attack.mitre.org/${section}/${base}/${sub ? `${sub}/` : ''}`;
}

export interface CoverageRow {
  id: string;
  technique: string;
  mitigations: Array<{ id: string; name: string; url: string | null; text: string | null }>;
  detections: Array<{
    id: string;
    name: string;
    url: string | null;
    analytics: Array<{ id: string; name: string; platforms: string[] }>;
  }>;
}

export interface ReportTechnique {
  tactic: string;
  tactic_name: string;
  technique: string;
  name: string;
  url: string;
  how_used: string[];
  first_seen: string | null;
  sources: number;
}

export interface IncidentReport {
  incident: string;
  generated_at: string;
  attack: Array<{ domain: string; version: string | null }>;
  summary: {
    text: string;
    techniques: number;
    tactics: number;
    first_seen: string | null;
    last_seen: string | null;
    alerts: number;
    observables: number;
  };
  techniques: ReportTechnique[];
  timeline: Array<{
    tactic: string;
    name: string;
    first_seen: string | null;
    last_seen: string | null;
    techniques: string[];
  }>;
  mitigations: Array<{
    id: string;
    name: string;
    url: string;
    covers: Array<{ technique: string; text: string | null }>;
  }>;
  detections: Array<{
    id: string;
    name: string;
    url: string | null;
    covers: string[];
    analytics: Array<{ id: string; name: string; platforms: string[] }>;
  }>;
  /** Observed techniques that no detection strategy covers. */
  undetected: string[];
  candidate_groups: Array<CandidateGroup & { url: string }>;
  next_steps: Array<{
    technique: string;
    name: string;
    tactics: string[];
    phase: string;
    score: number;
  }>;
  kill_chain: KillChain;
}

/** The report's content from what the service read: pure, so every format says the same. */
export function buildReport(input: {
  killChain: KillChain;
  procedures: Map<string, string[]>;
  entities: { alerts: number; observables: number };
  coverage: CoverageRow[];
  candidates: CandidateGroup[];
  nextSteps: IncidentReport['next_steps'];
  attack: IncidentReport['attack'];
  now: string;
}): IncidentReport {
  const kc = input.killChain;
  const techniques: ReportTechnique[] = [];
  const timeline: IncidentReport['timeline'] = [];
  for (const m of kc.matrices)
    for (const p of m.phases.filter((x) => x.observed)) {
      timeline.push({
        tactic: p.tactic,
        name: p.name,
        first_seen: p.first_seen,
        last_seen: p.last_seen,
        techniques: p.techniques.map((t) => t.technique),
      });
      for (const t of p.techniques) {
        const times = t.sources.map((s) => s.occurred_at).filter((x): x is string => x !== null);
        const described = input.procedures.get(t.technique) ?? [];
        techniques.push({
          tactic: p.tactic,
          tactic_name: p.name,
          technique: t.technique,
          name: t.name,
          url: attackUrl(t.technique),
          how_used:
            described.length > 0
              ? described
              : [...new Set(t.sources.map((s) => `mapped on ${s.kind} ${s.entity_id}`))],
          first_seen: times.sort()[0] ?? null,
          sources: t.sources.length,
        });
      }
    }
  // Tactics in time; those with no time keep their matrix order, after.
  timeline.sort(
    (a, b) =>
      (a.first_seen ?? '~').localeCompare(b.first_seen ?? '~') ||
      timeline.indexOf(a) - timeline.indexOf(b),
  );
  const mitigations = new Map<string, IncidentReport['mitigations'][number]>();
  const detections = new Map<string, IncidentReport['detections'][number]>();
  for (const c of input.coverage) {
    for (const m of c.mitigations) {
      const entry = mitigations.get(m.id) ?? {
        id: m.id,
        name: m.name,
        url: m.url ?? attackUrl(m.id),
        covers: [],
      };
      entry.covers.push({ technique: c.technique, text: m.text });
      mitigations.set(m.id, entry);
    }
    for (const d of c.detections) {
      const entry = detections.get(d.id) ?? {
        id: d.id,
        name: d.name,
        url: d.url,
        covers: [],
        analytics: d.analytics,
      };
      entry.covers.push(c.technique);
      detections.set(d.id, entry);
    }
  }
  const byCover = <T extends { id: string; covers: unknown[] }>(a: T, b: T) =>
    b.covers.length - a.covers.length || a.id.localeCompare(b.id);
  const observedIds = [...new Set(techniques.map((t) => t.technique))];
  const seenTimes = techniques.map((t) => t.first_seen).filter((x): x is string => x !== null);
  const lastTimes = timeline.map((t) => t.last_seen).filter((x): x is string => x !== null);
  const tactics = new Set(techniques.map((t) => t.tactic)).size;
  const top = input.candidates[0];
  return {
    incident: kc.incident,
    generated_at: input.now,
    attack: input.attack,
    summary: {
      text:
        `${observedIds.length} technique${observedIds.length === 1 ? '' : 's'} across ` +
        `${tactics} tactic${tactics === 1 ? '' : 's'}` +
        (top ? `; closest known group: ${top.name} (${top.id}, score ${top.score})` : '') +
        '.',
      techniques: observedIds.length,
      tactics,
      first_seen: seenTimes.sort()[0] ?? null,
      last_seen: lastTimes.sort().at(-1) ?? null,
      alerts: input.entities.alerts,
      observables: input.entities.observables,
    },
    techniques,
    timeline,
    mitigations: [...mitigations.values()].sort(byCover),
    detections: [...detections.values()].sort(byCover),
    undetected: input.coverage
      .filter((c) => c.detections.length === 0)
      .map((c) => c.technique)
      .sort(),
    candidate_groups: input.candidates.map((c) => ({ ...c, url: attackUrl(c.id) })),
    next_steps: input.nextSteps,
    kill_chain: kc,
  };
}

/** Table cells and inline text: no pipe or line break may break the table. */
function cell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .replace(/([*_`[\]<>])/g, '\\$1');
}

export function renderMarkdown(r: IncidentReport): string {
  const lines: string[] = [];
  const versions = r.attack.map((a) => `${a.domain} ${a.version ?? '?'}`).join(', ');
  lines.push(`# ATT&CK report: incident ${cell(r.incident)}`, '');
  lines.push(`Generated ${r.generated_at} on MITRE ATT&CK® ${cell(versions)}.`, '');
  lines.push('## Summary', '', cell(r.summary.text), '');
  lines.push(
    `- First seen: ${r.summary.first_seen ?? 'unknown'}`,
    `- Last seen: ${r.summary.last_seen ?? 'unknown'}`,
    `- Alerts: ${r.summary.alerts}; observables: ${r.summary.observables}`,
    '',
  );
  lines.push('## Techniques', '');
  lines.push('| Tactic | Technique | ID | How it was used | First seen |', '|---|---|---|---|---|');
  for (const t of r.techniques)
    lines.push(
      `| ${cell(t.tactic_name)} | ${cell(t.name)} | [${t.technique}](${t.url}) | ${cell(t.how_used.join('; '))} | ${t.first_seen ?? ''} |`,
    );
  lines.push('', '## Timeline by tactic', '');
  for (const t of r.timeline)
    lines.push(
      `- **${cell(t.name)}**: ${t.first_seen ?? 'no time'}${t.last_seen && t.last_seen !== t.first_seen ? ` – ${t.last_seen}` : ''} (${t.techniques.join(', ')})`,
    );
  lines.push('', '## Mitigations', '');
  for (const m of r.mitigations) {
    lines.push(`### [${m.id}](${m.url}) ${cell(m.name)}`, '');
    for (const c of m.covers) lines.push(`- ${c.technique}: ${cell(c.text ?? '')}`);
    lines.push('');
  }
  lines.push('## Detections to check', '');
  for (const d of r.detections) {
    lines.push(`- **${cell(d.id)} ${cell(d.name)}** (${d.covers.join(', ')})`);
    for (const a of d.analytics)
      lines.push(
        `  - ${cell(a.id)} ${cell(a.name)}${a.platforms.length ? ` [${cell(a.platforms.join(', '))}]` : ''}`,
      );
  }
  if (r.undetected.length > 0) lines.push('', `No detection strategy: ${r.undetected.join(', ')}`);
  lines.push('', '## Candidate groups', '');
  lines.push('| Group | Score | Shared techniques |', '|---|---|---|');
  for (const g of r.candidate_groups)
    lines.push(
      `| [${g.id}](${g.url}) ${cell(g.name)} | ${g.score} | ${g.shared.join(', ')}${g.related.length ? ` (family: ${g.related.join(', ')})` : ''} |`,
    );
  lines.push('', '## Predicted next steps', '');
  lines.push('| Technique | Tactics | Score | Phase |', '|---|---|---|---|');
  for (const n of r.next_steps)
    lines.push(
      `| [${n.technique}](${attackUrl(n.technique)}) ${cell(n.name)} | ${n.tactics.join(', ')} | ${n.score} | ${n.phase} |`,
    );
  lines.push('', '---', '', ATTRIBUTION, '');
  return lines.join('\n');
}

const ATTRIBUTION =
  'MITRE ATT&CK® content © The MITRE Corporation, reproduced under its terms of use (https://attack.mitre.org/resources/legal-and-branding/terms-of-use/).';

function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const link = (url: string, text: string) =>
  /^https:\/\//.test(url) ? `<a href="${esc(url)}">${esc(text)}</a>` : esc(text);

/** A printable page: one inline stylesheet, no script, every value escaped. */
export function renderHtml(r: IncidentReport): string {
  const versions = r.attack.map((a) => `${a.domain} ${a.version ?? '?'}`).join(', ');
  const rows = (cells: string[][]) =>
    cells.map((c) => `<tr>${c.map((x) => `<td>${x}</td>`).join('')}</tr>`).join('\n');
  const table = (head: string[], body: string[][]) =>
    `<table><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>\n${rows(body)}\n</tbody></table>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ATT&amp;CK report: incident ${esc(r.incident)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;color:#111;margin:2rem auto;max-width:60rem;padding:0 1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #888;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#e8e8e8}
a{color:#0645ad}
h2{border-bottom:2px solid #333;padding-bottom:.2rem;margin-top:2rem}
.gap{color:#a00;font-weight:600}
footer{margin-top:2rem;font-size:12px;color:#333}
@media print{body{margin:0;max-width:none}a{color:#000}h2{break-after:avoid}tr{break-inside:avoid}}
</style>
</head>
<body>
<main>
<h1>ATT&amp;CK report: incident ${esc(r.incident)}</h1>
<p>Generated ${esc(r.generated_at)} on MITRE ATT&amp;CK® ${esc(versions)}.</p>
<h2>Summary</h2>
<p>${esc(r.summary.text)}</p>
<ul>
<li>First seen: ${esc(r.summary.first_seen ?? 'unknown')}</li>
<li>Last seen: ${esc(r.summary.last_seen ?? 'unknown')}</li>
<li>Alerts: ${r.summary.alerts}; observables: ${r.summary.observables}</li>
</ul>
<h2>Techniques</h2>
${table(
  ['Tactic', 'Technique', 'ID', 'How it was used', 'First seen'],
  r.techniques.map((t) => [
    esc(t.tactic_name),
    esc(t.name),
    link(t.url, t.technique),
    t.how_used.map(esc).join('<br>'),
    esc(t.first_seen ?? ''),
  ]),
)}
<h2>Timeline by tactic</h2>
<ol>
${r.timeline.map((t) => `<li><strong>${esc(t.name)}</strong>: ${esc(t.first_seen ?? 'no time')}${t.last_seen && t.last_seen !== t.first_seen ? ` – ${esc(t.last_seen)}` : ''} (${t.techniques.map(esc).join(', ')})</li>`).join('\n')}
</ol>
<h2>Mitigations</h2>
${table(
  ['Mitigation', 'Covers', 'How'],
  r.mitigations.map((m) => [
    link(m.url, `${m.id} ${m.name}`),
    m.covers.map((c) => esc(c.technique)).join('<br>'),
    m.covers.map((c) => `${esc(c.technique)}: ${esc(c.text ?? '')}`).join('<br>'),
  ]),
)}
<h2>Detections to check</h2>
${table(
  ['Detection strategy', 'Covers', 'Analytics'],
  r.detections.map((d) => [
    d.url ? link(d.url, `${d.id} ${d.name}`) : esc(`${d.id} ${d.name}`),
    d.covers.map(esc).join('<br>'),
    d.analytics.map((a) => esc(`${a.id} ${a.name}`)).join('<br>'),
  ]),
)}
${r.undetected.length > 0 ? `<p class="gap">No detection strategy: ${r.undetected.map(esc).join(', ')}</p>` : ''}
<h2>Candidate groups</h2>
${table(
  ['Group', 'Score', 'Shared techniques'],
  r.candidate_groups.map((g) => [
    link(g.url, `${g.id} ${g.name}`),
    String(g.score),
    esc(g.shared.join(', ') + (g.related.length ? ` (family: ${g.related.join(', ')})` : '')),
  ]),
)}
<h2>Predicted next steps</h2>
${table(
  ['Technique', 'Tactics', 'Score', 'Phase'],
  r.next_steps.map((n) => [
    link(attackUrl(n.technique), `${n.technique} ${n.name}`),
    esc(n.tactics.join(', ')),
    String(n.score),
    esc(n.phase),
  ]),
)}
</main>
<footer>${esc(ATTRIBUTION)}</footer>
</body>
</html>
`;
}
