import { api, me } from './api';
import { attackText } from './attack-text';
import { clear, entitySelect, h } from './dom';

interface Item {
  id: string;
  name: string;
}
interface Column {
  tactic: Item & { shortname: string };
  techniques: Array<Item & { subtechniques: Item[] }>;
}
interface Breakdown {
  top: Array<{ key: string; mappings: number; entities: number }>;
}
interface TechniqueDetail extends Item {
  description?: string;
  tactics?: string[];
  platforms?: string[];
  [related: string]: unknown;
}

const DOMAINS = [
  ['enterprise-attack', 'Enterprise'],
  ['mobile-attack', 'Mobile'],
  ['ics-attack', 'ICS'],
] as const;

/** Heat class 0..5 for a count against the largest: 0 is none, then five even steps. */
export function heat(count: number, max: number): number {
  if (count <= 0 || max <= 0) return 0;
  return Math.min(5, Math.max(1, Math.ceil((count / max) * 5)));
}

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/** The matrix view: tactics in kill-chain order, techniques coloured by the tenant's mappings. */
export async function matrixView(main: HTMLElement): Promise<void> {
  const domain = h(
    'select',
    { id: 'domain' },
    ...DOMAINS.map(([v, l]) => h('option', { value: v }, l)),
  );
  const entity = entitySelect('entity');
  const from = h('input', { id: 'from', type: 'date', value: daysAgo(30) }) as HTMLInputElement;
  const to = h('input', { id: 'to', type: 'date', value: daysAgo(-1) }) as HTMLInputElement;
  const search = h('input', { id: 'search', type: 'search', placeholder: 'T1059, PowerShell…' });
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const grid = h('div', { class: 'matrix', id: 'matrix' });
  grid.addEventListener('keydown', (e) => moveFocus(grid, e as KeyboardEvent));
  // The matrix is one tab stop: the cell last focused keeps it.
  grid.addEventListener('focusin', (e) => {
    const cell = (e.target as HTMLElement).closest<HTMLElement>('.cell');
    if (cell) rovingTo(grid, cell, false);
  });
  const help = h(
    'p',
    { id: 'matrix-help', class: 'hint' },
    'In the matrix: arrow keys move between techniques, + and − show or hide sub-techniques, Enter opens one.',
  );
  const legend = h('div', { class: 'legend', id: 'legend', 'aria-label': 'Legend' });
  const detail = h('dialog', {
    id: 'technique',
    'aria-labelledby': 'technique-title',
  }) as HTMLDialogElement;
  clear(
    main,
    h('h1', {}, 'ATT&CK matrix'),
    h(
      'div',
      { class: 'controls' },
      h('label', { for: 'domain' }, 'Domain', domain),
      h('label', { for: 'entity' }, 'Count', entity),
      h('label', { for: 'from' }, 'From', from),
      h('label', { for: 'to' }, 'To', to),
      h('label', { for: 'search' }, 'Search', search),
    ),
    status,
    legend,
    help,
    grid,
    detail,
  );
  const draw = async () => {
    status.textContent = 'Loading…';
    const d = (domain as HTMLSelectElement).value;
    const window = `from=${encodeURIComponent(`${from.value}T00:00:00Z`)}&to=${encodeURIComponent(`${to.value}T00:00:00Z`)}`;
    const [matrix, counts] = await Promise.all([
      api<{ columns: Column[] }>(`/matrices/${d}/`),
      api<Breakdown>(
        `/dashboard/breakdown/?by=sub-technique&entity=${entity.value}&top=1000&${window}`,
      ),
    ]);
    const byId = new Map(counts.top.map((t) => [t.key, t.mappings]));
    const max = Math.max(0, ...byId.values());
    const cell = (t: Item) => {
      const n = byId.get(t.id) ?? 0;
      // The name comes from the content (what is seen, plus words for screen readers only).
      return h(
        'button',
        {
          type: 'button',
          class: `cell h${heat(n, max)}`,
          'data-technique': t.id,
          'data-count': n,
          tabindex: -1,
          'aria-describedby': 'matrix-help',
          onclick: () => void openTechnique(detail, t.id).catch(fail),
        },
        h('span', { class: 'name' }, h('span', { class: 'sr' }, `${t.id} `), t.name),
        h(
          'span',
          { class: 'count' },
          n > 0 ? String(n) : '',
          h('span', { class: 'sr' }, ` ${n} mappings`),
        ),
      );
    };
    clear(
      grid,
      ...matrix.columns.map((c) =>
        h(
          'section',
          { class: 'tactic', 'data-tactic': c.tactic.id, 'aria-label': c.tactic.name },
          h(
            'h2',
            {},
            c.tactic.name,
            h('small', {}, `${c.tactic.id} · ${c.techniques.length} techniques`),
          ),
          h(
            'ul',
            {},
            ...c.techniques.map((t) => {
              const subs = h(
                'ul',
                { class: 'subs', hidden: true, id: `subs-${c.tactic.id}-${t.id}` },
                ...t.subtechniques.map((s) => h('li', {}, cell(s))),
              );
              const toggle =
                t.subtechniques.length > 0
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'toggle',
                        tabindex: -1,
                        'aria-expanded': 'false',
                        'aria-controls': `subs-${c.tactic.id}-${t.id}`,
                        'aria-label': `${t.subtechniques.length} sub-techniques of ${t.id}`,
                        onclick: (e: Event) => {
                          const b = e.currentTarget as HTMLElement;
                          const open = b.getAttribute('aria-expanded') !== 'true';
                          b.setAttribute('aria-expanded', String(open));
                          subs.hidden = !open;
                        },
                      },
                      String(t.subtechniques.length),
                    )
                  : null;
              return h('li', {}, h('div', { class: 'row' }, cell(t), toggle), subs);
            }),
          ),
        ),
      ),
    );
    clear(
      legend,
      `Mappings (${entity.value}s, ${from.value} to ${to.value}):`,
      ...[0, 1, 2, 3, 4, 5].map((k) =>
        h('span', { class: `h${k}` }, k === 0 ? '0' : `≤ ${Math.ceil((max * k) / 5)}`),
      ),
    );
    filter();
    const first = grid.querySelector<HTMLElement>('.cell');
    if (first) rovingTo(grid, first, false);
    status.textContent = `${matrix.columns.length} tactics`;
  };
  const filter = () => {
    const q = (search as HTMLInputElement).value.trim().toLowerCase();
    for (const b of grid.querySelectorAll<HTMLElement>('.cell')) {
      const hit = q === '' || (b.textContent ?? '').toLowerCase().includes(q);
      b.classList.toggle('dim', !hit);
    }
  };
  for (const c of [domain, entity, from, to])
    c.addEventListener('change', () => void draw().catch(fail));
  search.addEventListener('input', filter);
  const fail = (err: Error) => {
    status.textContent = err.message;
    status.className = 'error';
  };
  // The first drawing's failure is the caller's (a refused token signs out).
  await draw();
}

/** Makes `cell` the matrix's one tab stop (and focuses it when asked). */
function rovingTo(grid: HTMLElement, cell: HTMLElement, focus: boolean): void {
  for (const c of grid.querySelectorAll<HTMLElement>('.cell[tabindex="0"]')) c.tabIndex = -1;
  cell.tabIndex = 0;
  if (focus) cell.focus();
}

const visible = (scope: Element) =>
  [...scope.querySelectorAll<HTMLElement>('.cell')].filter((c) => c.offsetParent !== null);

/**
 * Arrow keys within a tactic's column and across columns, Home/End in a column, + and − to show
 * or hide a technique's sub-techniques (a sub-technique's − goes back to its parent).
 */
function moveFocus(grid: HTMLElement, e: KeyboardEvent): void {
  const cell = (e.target as HTMLElement).closest<HTMLElement>('.cell');
  const column = cell?.closest('section.tactic');
  if (!cell || !column) return;
  const cells = visible(column);
  const at = cells.indexOf(cell);
  let next: HTMLElement | undefined;
  const row = cell.closest('li')?.querySelector(':scope > .row > .toggle') as HTMLElement | null;
  switch (e.key) {
    case 'ArrowDown':
      next = cells[at + 1];
      break;
    case 'ArrowUp':
      next = cells[at - 1];
      break;
    case 'Home':
      next = cells[0];
      break;
    case 'End':
      next = cells[cells.length - 1];
      break;
    case 'ArrowRight':
    case 'ArrowLeft': {
      const sibling =
        e.key === 'ArrowRight' ? column.nextElementSibling : column.previousElementSibling;
      const there = sibling ? visible(sibling) : [];
      next = there[Math.min(at, there.length - 1)];
      break;
    }
    case '+':
    case '=':
      if (row?.getAttribute('aria-expanded') === 'false') row.click();
      break;
    case '-':
    case '−': {
      const parentRow = cell.closest('ul.subs')?.parentElement;
      const toggle = (row ??
        parentRow?.querySelector(':scope > .row > .toggle')) as HTMLElement | null;
      if (toggle?.getAttribute('aria-expanded') === 'true') {
        toggle.click();
        const parentCell = parentRow?.querySelector<HTMLElement>(':scope > .row > .cell');
        if (!row && parentCell) next = parentCell;
      }
      break;
    }
    default:
      return;
  }
  e.preventDefault();
  if (next) rovingTo(grid, next, true);
}

const NAMED_LISTS: Array<[string, string]> = [
  ['mitigations', 'Mitigations'],
  ['detection_strategies', 'Detection strategies'],
  ['groups', 'Groups using it'],
  ['software', 'Software using it'],
];

/** A technique's detail in a modal dialog: ATT&CK's text, what relates to it, the tenant's mappings. */
async function openTechnique(dialog: HTMLDialogElement, id: string): Promise<void> {
  const [t, mine, caller] = await Promise.all([
    api<TechniqueDetail>(`/techniques/${id}/`),
    api<{ count: number; results: Array<{ id: string; alert_id?: string; confidence?: number }> }>(
      `/alert-mappings/?technique=${id}&limit=20`,
    ),
    me(),
  ]);
  const list = (key: string, title: string) => {
    const related = t[key] as { count: number; results: Array<{ object: Item }> } | undefined;
    if (!related || related.count === 0) return null;
    return h(
      'section',
      {},
      h('h3', {}, `${title} (${related.count})`),
      h('p', {}, related.results.map((r) => `${r.object.id} ${r.object.name}`).join(', ')),
    );
  };
  clear(
    dialog,
    h('h2', { id: 'technique-title' }, `${t.id} ${t.name}`),
    attackText(t.description ?? ''),
    ...NAMED_LISTS.map(([k, title]) => list(k, title)),
    h(
      'section',
      {},
      h('h3', {}, `Your alert mappings (${mine.count})`),
      mine.count === 0
        ? h('p', {}, 'None.')
        : h(
            'ul',
            {},
            ...mine.results.map((m) =>
              h(
                'li',
                {},
                `${m.alert_id ?? m.id}${m.confidence !== undefined ? ` (confidence ${m.confidence})` : ''}`,
              ),
            ),
          ),
    ),
    // Only for callers the policy lets create mappings: a viewer sees no write control.
    caller.permissions.includes('mappings:create') ? mapForm(dialog, id) : null,
    h('form', { method: 'dialog' }, h('button', { type: 'submit', autofocus: true }, 'Close')),
  );
  if (!dialog.open) dialog.showModal();
}

/** Maps the technique to one of the tenant's alerts (a manual mapping, as the API records it). */
function mapForm(dialog: HTMLDialogElement, technique: string): HTMLElement {
  const alert = h('input', { id: 'map-alert', required: true, maxlength: 200 }) as HTMLInputElement;
  const confidence = h('input', {
    id: 'map-confidence',
    type: 'number',
    min: 0,
    max: 100,
    value: 80,
  }) as HTMLInputElement;
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  return h(
    'section',
    { 'aria-labelledby': 'map-title' },
    h('h3', { id: 'map-title' }, 'Map to an alert'),
    h(
      'form',
      {
        id: 'map-form',
        class: 'controls',
        onsubmit: (e: Event) => {
          e.preventDefault();
          status.textContent = 'Mapping…';
          status.className = '';
          api<{ id: string }>('/alert-mappings/', {
            alert_id: alert.value.trim(),
            technique,
            confidence: Number(confidence.value),
          })
            .then(() => openTechnique(dialog, technique))
            .catch((err: Error) => {
              status.textContent = err.message;
              status.className = 'error';
            });
        },
      },
      h('label', { for: 'map-alert' }, 'Alert id', alert),
      h('label', { for: 'map-confidence' }, 'Confidence', confidence),
      h('button', { type: 'submit' }, 'Map'),
    ),
    status,
  );
}
