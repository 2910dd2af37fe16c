// A tiny element builder: h('button', {type: 'button', onclick}, 'text', child).
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

export function h(tag: string, attrs: Attrs = {}, ...children: Array<Node | string | null>) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

export function clear(el: Element, ...children: Array<Node | string | null>): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== null));
}

type Cell = string | Node;
/** A row: its cells, or its cells with attributes of its own (`data-key`). */
export type Row = Cell[] | { attrs: Attrs; cells: Cell[] };

/** A data table with a caption and column headers; a row's first cell may head it (`th`). */
export function table(
  caption: string,
  head: string[],
  rows: Row[],
  attrs: Attrs = {},
  rowHeads = false,
): HTMLElement {
  return h(
    'table',
    attrs,
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...head.map((x) => h('th', { scope: 'col' }, x)))),
    h(
      'tbody',
      {},
      ...rows.map((r) => {
        const { attrs: rowAttrs, cells } = Array.isArray(r) ? { attrs: {}, cells: r } : r;
        return h(
          'tr',
          rowAttrs,
          ...cells.map((c, i) =>
            rowHeads && i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c),
          ),
        );
      }),
    ),
  );
}

/** A horizontal bar for a table cell: its width is the share of the largest, its text the count. */
export function bar(n: number, max: number): HTMLElement {
  const pct = max > 0 ? Math.round((n / max) * 100) : 0;
  return h(
    'span',
    { class: 'bar' },
    h('span', { class: `fill w${Math.round(pct / 5) * 5}` }),
    String(n),
  );
}

/** The select of which mapped entities to count: alerts, incidents or observables. */
export function entitySelect(id: string): HTMLSelectElement {
  return h(
    'select',
    { id },
    ...['alert', 'incident', 'observable'].map((v) => h('option', { value: v }, `${v}s`)),
  ) as HTMLSelectElement;
}
