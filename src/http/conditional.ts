import type { Coding } from '../attack/answer-cache';

/**
 * The content coding to send for an Accept-Encoding header (RFC 9110 §12.5.3): the acceptable one
 * with the highest weight, brotli before gzip before none on a tie. Identity is acceptable unless
 * refused; when everything is refused the answer goes uncompressed, as the RFC advises.
 */
export function preferredCoding(header: string | undefined): Coding | 'identity' {
  if (!header) return 'identity';
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    if (coding === '') continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      if (m?.[1]) q = Number(m[1]);
    }
    weights.set(coding === 'x-gzip' ? 'gzip' : coding, q);
  }
  const any = weights.get('*');
  const weight = (c: string) => weights.get(c) ?? any ?? (c === 'identity' ? 0.001 : 0);
  let best: Coding | 'identity' = 'identity';
  for (const c of ['gzip', 'br'] as const) {
    if (weight(c) > 0 && weight(c) >= weight(best)) best = c;
  }
  return best;
}

/** Whether If-None-Match names this entity tag (weak comparison, RFC 9110 §13.1.2) or is `*`. */
export function notModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  for (const t of header.split(',')) {
    const tag = t.trim();
    if (tag === '*' || (tag.startsWith('W/') ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}
