// A stacked column chart in SVG (presentation attributes only: the console's CSP allows no inline
// style). The table beside it holds the same numbers for screen readers and copying.
const SVG = 'http://www.w3.org/2000/svg';

function s(tag: string, attrs: Record<string, string | number>, ...children: Array<Node | string>) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

export interface Series {
  name: string;
  values: number[];
}

const W = 720;
const H = 240;
const PAD = { left: 40, right: 8, top: 12, bottom: 36 };

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten. */
export function niceMax(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  return ([1, 2, 5, 10].find((m) => m * p >= n) ?? 10) * p;
}

/** Columns per label (time bucket), one stacked segment per series, with a legend. */
export function stackedColumns(id: string, title: string, labels: string[], series: Series[]) {
  const totals = labels.map((_l, i) => series.reduce((sum, x) => sum + (x.values[i] ?? 0), 0));
  const top = niceMax(Math.max(0, ...totals));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, labels.length);
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const every = Math.max(1, Math.ceil(labels.length / 8));
  const columns = labels.map((label, i) => {
    let base = 0;
    const x = PAD.left + i * step + step * 0.15;
    const segments = series.map((ser, k) => {
      const v = ser.values[i] ?? 0;
      const rect = s(
        'rect',
        { x, y: y(base + v), width: step * 0.7, height: y(base) - y(base + v), class: `s${k}` },
        s('title', {}, `${ser.name}: ${v} (${label})`),
      );
      base += v;
      return rect;
    });
    const tick =
      i % every === 0
        ? s('text', { x: x + step * 0.35, y: H - PAD.bottom + 16, 'text-anchor': 'middle' }, label)
        : null;
    return s('g', {}, ...segments, ...(tick ? [tick] : []));
  });
  const axis = [0, top / 2, top].map((v) =>
    s(
      'g',
      {},
      s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)),
    ),
  );
  const svg = s(
    'svg',
    {
      id,
      class: 'chart',
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-labelledby': `${id}-title`,
    },
    s('title', { id: `${id}-title` }, `${title} (the table below lists the same counts)`),
    ...axis,
    ...columns,
  );
  const legend = document.createElement('ul');
  legend.className = 'chart-legend';
  series.forEach((ser, k) => {
    const li = document.createElement('li');
    const swatch = s(
      'svg',
      { width: 12, height: 12, 'aria-hidden': 'true' },
      s('rect', { width: 12, height: 12, class: `s${k}` }),
    );
    li.append(swatch, ` ${ser.name}`);
    legend.append(li);
  });
  const figure = document.createElement('figure');
  figure.append(svg, legend);
  return figure;
}
