/**
 * The API and the CLI's JSON speak snake_case, as the seed platform (Django REST Framework) does;
 * the code's own objects are camelCase. Keys are converted at the edge, deeply; keys that are data
 * (STIX types, relationship types, domains) are lowercase already and pass unchanged.
 */
export function toWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toWire);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[snake(k)] = toWire(v);
  return out;
}

function snake(key: string): string {
  return /[a-z0-9][A-Z]/.test(key) ? key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase() : key;
}
