import { api } from './api';
import { stackedColumns } from './chart';
import { bar, clear, entitySelect, h, table } from './dom';

interface Breakdown {
  top: Array<{ key: string; name: string; entities: number; mappings: number }>;
  tail: { keys: number; entities: number; mappings: number };
  buckets: Array<{
    start: string;
    counts: Array<{ key: string; entities: number }>;
    other: number;
  }>;
  incidents_by_phase: Array<{ matrix: string; tactic: string; name: string; incidents: number }>;
  totals: { entities: number; mappings: number };
}

/** How many of the top keys get a series of their own in a chart (the rest: "other"). */
const SERIES = 5;

type Bucket = Breakdown['buckets'][number];
type Key = Breakdown['top'][number];

/** A breakdown's buckets as a stacked column chart and, below it, the same counts as a table. */
function overTime(id: string, title: string, b: Breakdown, label: (k: Key) => string) {
  const shown = b.top.slice(0, SERIES);
  // A bucket lists only the top keys it saw; the chart's series are the first few of them.
  const count = (x: Bucket, key: string) => x.counts.find((c) => c.key === key)?.entities ?? 0;
  const other = (x: Bucket) =>
    x.other +
    x.counts.filter((c) => !shown.some((t) => t.key === c.key)).reduce((n, c) => n + c.entities, 0);
  return h(
    'section',
    { id, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title),
    stackedColumns(
      `${id}-chart`,
      title,
      b.buckets.map((x) => x.start.slice(0, 10)),
      [
        ...shown.map((t) => ({ name: label(t), values: b.buckets.map((x) => count(x, t.key)) })),
        { name: 'Other', values: b.buckets.map(other) },
      ],
    ),
    table(
      'The same counts',
      ['From', ...shown.map((t) => t.key), 'Other'],
      b.buckets.map((x) => [
        x.start,
        ...shown.map((t) => String(count(x, t.key))),
        String(other(x)),
      ]),
      { id: `${id}-table` },
      true,
    ),
  );
}

/** The tenant's breakdown by tactic and by technique over time, and incidents by phase reached. */
export async function dashboardView(main: HTMLElement): Promise<void> {
  const entity = entitySelect('dash-entity');
  const bucket = h(
    'select',
    { id: 'dash-bucket' },
    h('option', { value: 'week' }, 'weeks'),
    h('option', { value: 'day' }, 'days'),
  ) as HTMLSelectElement;
  const body = h('div', { id: 'dashboard' });
  clear(
    main,
    h('h1', {}, 'Dashboard'),
    h(
      'div',
      { class: 'controls' },
      h('label', { for: 'dash-entity' }, 'Count', entity),
      h('label', { for: 'dash-bucket' }, 'By', bucket),
    ),
    body,
  );
  const draw = async () => {
    const q = `entity=${entity.value}&bucket=${bucket.value}`;
    const [tactics, techniques] = await Promise.all([
      api<Breakdown>(`/dashboard/breakdown/?by=tactic&${q}&top=20`),
      api<Breakdown>(`/dashboard/breakdown/?by=technique&${q}&top=15`),
    ]);
    const maxT = Math.max(0, ...tactics.top.map((t) => t.entities));
    const maxK = Math.max(0, ...techniques.top.map((t) => t.entities));
    const maxP = Math.max(0, ...tactics.incidents_by_phase.map((p) => p.incidents));
    clear(
      body,
      h(
        'p',
        {},
        `${tactics.totals.entities} ${entity.value}s, ${tactics.totals.mappings} mappings`,
      ),
      table(
        'By tactic',
        ['Tactic', 'Count'],
        tactics.top.map((t) => ({
          attrs: { 'data-key': t.key },
          cells: [t.name, bar(t.entities, maxT)],
        })),
        { id: 'by-tactic' },
      ),
      table(
        `Top techniques (and ${techniques.tail.keys} more)`,
        ['Technique', 'Count'],
        techniques.top.map((t) => ({
          attrs: { 'data-key': t.key },
          cells: [`${t.key} ${t.name}`, bar(t.entities, maxK)],
        })),
        { id: 'top-techniques' },
      ),
      overTime('tactics-over-time', `Tactics per ${bucket.value}`, tactics, (t) => t.name),
      overTime(
        'over-time',
        `Top techniques per ${bucket.value}`,
        techniques,
        (t) => `${t.key} ${t.name}`,
      ),
      table(
        'Incidents by kill-chain phase reached',
        ['Phase', 'Incidents'],
        tactics.incidents_by_phase.map((p) => [p.name, bar(p.incidents, maxP)]),
        { id: 'by-phase' },
      ),
    );
  };
  entity.addEventListener('change', () => void draw());
  bucket.addEventListener('change', () => void draw());
  await draw();
}
