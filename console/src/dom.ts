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
