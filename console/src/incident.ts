import { api, download } from './api';
import { clear, h, table } from './dom';

interface Source {
  kind: string;
  entity_id: string;
  occurred_at: string | null;
}
interface Phase {
  tactic: string;
  id: string;
  name: string;
  observed: boolean;
  first_seen: string | null;
  last_seen: string | null;
  techniques: Array<{ technique: string; name: string; sources: Source[] }>;
}
interface KillChain {
  incident: string;
  matrices: Array<{
    matrix: string;
    phases: Phase[];
    progression: Array<{ tactic: string; first_seen: string; tied: boolean }>;
    untimed: string[];
    skipped: string[];
    coverage: { tactics_observed: number; tactics_total: number; techniques_observed: number };
  }>;
}
interface Step {
  technique: string;
  name: string;
  score: number;
  tactic?: string;
  gap?: boolean;
  evidence?: NextStepEvidence;
  detections?: Array<{ id: string; name: string }>;
  mitigations?: Array<{ id: string; name: string }>;
}
interface Report {
  candidate_groups: Array<{ id: string; name: string; score: number; shared?: string[] }>;
}

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 16) : '—');

/** The evidence of a next step, as openapi.yaml's NextStep documents it. */
interface NextStepEvidence {
  observed: Array<{ technique: string; weight: number }>;
  actors: Array<{ name: string }>;
  actors_total: number;
  incidents: Array<{ incident: string }>;
}

/** What supports a suggestion, in a line: "after: T1566.001, T1059.001; actors: APT29, FIN7 +12". */
export function evidenceLine(e: NextStepEvidence | undefined): string {
  if (!e) return '';
  const list = (label: string, names: string[], total = names.length) => {
    const shown = names.slice(0, 3);
    const more = total - shown.length;
    return names.length ? `${label}: ${shown.join(', ')}${more > 0 ? ` +${more}` : ''}` : '';
  };
  return [
    list(
      'after',
      e.observed.map((o) => o.technique),
    ),
    list(
      'actors',
      e.actors.map((a) => a.name),
      e.actors_total,
    ),
    list(
      'past incidents',
      e.incidents.map((i) => i.incident),
    ),
  ]
    .filter(Boolean)
    .join('; ');
}

/** One incident: its kill chain, timeline, next steps, paths with detection gaps, groups, downloads. */
export async function incidentView(main: HTMLElement, id: string | undefined): Promise<void> {
  const input = h('input', {
    id: 'incident-id',
    value: id ?? '',
    required: true,
  }) as HTMLInputElement;
  const body = h('div', { id: 'incident' });
  clear(
    main,
    h('h1', {}, 'Incident'),
    h(
      'form',
      {
        class: 'controls',
        onsubmit: (e: Event) => {
          e.preventDefault();
          location.hash = `#incident/${encodeURIComponent(input.value.trim())}`;
        },
      },
      h('label', { for: 'incident-id' }, 'Incident id', input),
      h('button', { type: 'submit' }, 'Open'),
    ),
    body,
  );
  if (!id) return;
  const path = `/incidents/${encodeURIComponent(id)}`;
  const [chain, next, paths, report] = await Promise.all([
    api<KillChain>(`${path}/kill-chain/`),
    api<{ suggestions: Step[] }>(`${path}/next-steps/?top_k=10`),
    api<{ paths: Array<{ score: number; steps: Step[] }> }>(`${path}/paths/?to=impact`),
    api<Report>(`${path}/report/`),
  ]);
  const m = chain.matrices[0];
  const saveAs = (suffix: string, file: string) => () => void download(`${path}/${suffix}`, file);
  clear(
    body,
    h(
      'p',
      { class: 'controls' },
      h(
        'button',
        {
          type: 'button',
          id: 'download-markdown',
          onclick: saveAs('report/?format=markdown', `${id}-report.md`),
        },
        'Report (markdown)',
      ),
      h(
        'button',
        {
          type: 'button',
          id: 'download-html',
          onclick: saveAs('report/?format=html', `${id}-report.html`),
        },
        'Report (HTML)',
      ),
      h(
        'button',
        { type: 'button', id: 'download-layer', onclick: saveAs('layer/', `${id}-layer.json`) },
        'Navigator layer',
      ),
    ),
    m
      ? h(
          'section',
          { id: 'kill-chain', 'aria-labelledby': 'kc-title' },
          h(
            'h2',
            { id: 'kc-title' },
            `Kill chain (${m.coverage.tactics_observed} of ${m.coverage.tactics_total} tactics, ${m.coverage.techniques_observed} techniques)`,
          ),
          h(
            'ol',
            { class: 'phases' },
            ...m.phases.map((p) =>
              h(
                'li',
                {
                  class: p.observed
                    ? 'phase seen'
                    : m.skipped.includes(p.tactic)
                      ? 'phase gap'
                      : 'phase',
                  'data-tactic': p.id,
                },
                h('strong', {}, p.name),
                p.observed
                  ? ` — ${p.techniques.map((t) => t.technique).join(', ')} (first ${when(p.first_seen)}, last ${when(p.last_seen)})`
                  : m.skipped.includes(p.tactic)
                    ? ' — skipped'
                    : '',
              ),
            ),
          ),
          table(
            'Timeline',
            ['First seen', 'Tactic', 'Tied'],
            m.progression.map((s) => [when(s.first_seen), s.tactic, s.tied ? 'yes' : '']),
          ),
        )
      : h('p', {}, 'No technique is mapped to this incident yet.'),
    h(
      'section',
      { id: 'next-steps' },
      h('h2', {}, 'Likely next'),
      table(
        'Next steps, best first',
        ['Technique', 'Score', 'Evidence'],
        next.suggestions.map((s) => [
          `${s.technique} ${s.name}`,
          s.score.toFixed(3),
          evidenceLine(s.evidence),
        ]),
      ),
    ),
    h(
      'section',
      { id: 'paths' },
      h('h2', {}, 'Paths to impact'),
      ...paths.paths.slice(0, 3).map((p, i) =>
        table(
          `Path ${i + 1} (score ${p.score.toFixed(3)})`,
          ['Step', 'Score', 'Detections'],
          p.steps.map((s) => [
            `${s.tactic ?? ''} ${s.technique} ${s.name}`,
            s.score.toFixed(3),
            s.gap
              ? h('strong', { class: 'error' }, 'no detection (gap)')
              : (s.detections ?? []).map((d) => d.id).join(', '),
          ]),
        ),
      ),
    ),
    h(
      'section',
      { id: 'groups' },
      h('h2', {}, 'Candidate groups'),
      table(
        'Groups by weighted overlap',
        ['Group', 'Score'],
        report.candidate_groups.slice(0, 10).map((g) => [`${g.id} ${g.name}`, g.score.toFixed(3)]),
      ),
    ),
  );
}
