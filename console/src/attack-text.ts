import { h } from './dom';

// ATT&CK's descriptions are markdown of a small, known shape: paragraphs, `* ` lists, links,
// `(Citation: …)` references and <code> tags. They are drawn as elements (never as HTML), so
// nothing in the text can become markup; only https links become links.
const INLINE =
  /\[([^\]]{1,300})\]\(([^)\s]{1,500})\)|\(Citation: ([^)]{1,300})\)|<code>([\s\S]{0,1000}?)<\/code>/g;

function inline(text: string): Array<Node | string> {
  const out: Array<Node | string> = [];
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    const [, label, href, cite, code] = m;
    if (label !== undefined && href !== undefined) {
      out.push(/^https:\/\//i.test(href) ? h('a', { href, rel: 'noreferrer' }, label) : label);
    } else if (cite !== undefined) {
      out.push(h('span', { class: 'cite' }, `[${cite}]`));
    } else if (code !== undefined) {
      out.push(h('code', {}, code));
    }
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

/** A technique's (or any ATT&CK object's) description as paragraphs and lists. */
export function attackText(text: string): HTMLElement {
  const blocks = text
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter(Boolean);
  return h(
    'div',
    { class: 'attack-text' },
    ...blocks.map((b) => {
      const lines = b.split('\n').map((l) => l.trim());
      if (lines.every((l) => /^[*-] /.test(l))) {
        return h('ul', {}, ...lines.map((l) => h('li', {}, ...inline(l.slice(2)))));
      }
      return h('p', {}, ...inline(lines.join(' ')));
    }),
  );
}
