/**
 * A reader of ATT&CK Navigator layers, written to the layer format 4.5 definition
 * (attack-navigator's layers/LAYERFORMATv4_5.md), as the Navigator loads a layer file: required
 * fields and their types checked, defaults applied for what is absent. MITRE's own reader
 * (mitreattack-python's navlayers) is not installable here (no PyPI), so tests read layers with
 * this one: any field it does not know, or a wrong type, fails the read.
 */

export interface ReadLayer {
  name: string;
  domain: 'enterprise-attack' | 'mobile-attack' | 'ics-attack';
  versions: { attack?: string; navigator: string; layer: '4.5' };
  description: string;
  sorting: 0 | 1 | 2 | 3;
  techniques: Array<{
    techniqueID: string;
    tactic?: string;
    score?: number;
    color: string;
    comment: string;
    enabled: boolean;
    links: Array<{ label: string; url: string }>;
    metadata: Array<{ name: string; value: string } | { divider: true }>;
    showSubtechniques: boolean;
  }>;
  gradient: { colors: string[]; minValue: number; maxValue: number };
  legendItems: Array<{ label: string; color: string }>;
}

const TOP = new Set([
  'versions',
  'name',
  'description',
  'domain',
  'customDataURL',
  'filters',
  'sorting',
  'layout',
  'hideDisabled',
  'techniques',
  'gradient',
  'legendItems',
  'showTacticRowBackground',
  'tacticRowBackground',
  'selectTechniquesAcrossTactics',
  'selectSubtechniquesWithParent',
  'selectVisibleTechniques',
  'metadata',
  'links',
]);
const TECHNIQUE = new Set([
  'techniqueID',
  'tactic',
  'comment',
  'enabled',
  'score',
  'color',
  'metadata',
  'links',
  'showSubtechniques',
]);
const COLOR = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

function fail(msg: string): never {
  throw new Error(`not a 4.5 layer: ${msg}`);
}

function known(obj: Record<string, unknown>, keys: Set<string>, where: string): void {
  for (const k of Object.keys(obj)) if (!keys.has(k)) fail(`unknown field ${where}.${k}`);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(`${where} must be a string`);
  return v;
}

function bool(v: unknown, fallback: boolean, where: string): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') fail(`${where} must be a boolean`);
  return v;
}

function links(v: unknown, where: string): Array<{ label: string; url: string }> {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`${where} must be an array`);
  return v.map((l: Record<string, unknown>, i) => {
    const url = str(l.url, `${where}[${i}].url`);
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) fail(`${where}[${i}].url has no protocol`);
    return { label: str(l.label, `${where}[${i}].label`), url };
  });
}

function metadata(v: unknown, where: string): ReadLayer['techniques'][number]['metadata'] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`${where} must be an array`);
  return v.map((m: Record<string, unknown>, i) =>
    m.divider === true
      ? { divider: true as const }
      : { name: str(m.name, `${where}[${i}].name`), value: str(m.value, `${where}[${i}].value`) },
  );
}

const newer = (a: string, b: string) => {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) {
    const d = (x?.[i] ?? 0) - (y?.[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
};

export function readLayer(text: string): ReadLayer {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('not an object');
  known(raw, TOP, 'layer');
  const versions = (raw.versions ?? fail('versions missing')) as Record<string, unknown>;
  if (versions.layer !== '4.5') fail(`versions.layer is ${String(versions.layer)}`);
  const navigator = str(versions.navigator, 'versions.navigator');
  if (!newer(navigator, '4.9.0')) fail('versions.navigator must be at least 4.9.0');
  const domain = str(raw.domain, 'domain');
  if (!['enterprise-attack', 'mobile-attack', 'ics-attack'].includes(domain))
    fail(`domain ${domain}`);
  const sorting = raw.sorting ?? 0;
  if (![0, 1, 2, 3].includes(sorting as number)) fail('sorting must be 0–3');
  const gradient = (raw.gradient ?? {
    colors: ['#ff6666', '#ffe766', '#8ec843'],
    minValue: 0,
    maxValue: 100,
  }) as ReadLayer['gradient'];
  if (!Array.isArray(gradient.colors) || gradient.colors.length < 2)
    fail('gradient.colors needs at least two colours');
  for (const c of gradient.colors) if (!COLOR.test(c)) fail(`gradient colour ${c}`);
  if (typeof gradient.minValue !== 'number' || typeof gradient.maxValue !== 'number')
    fail('gradient bounds must be numbers');
  if (!(gradient.maxValue > gradient.minValue)) fail('gradient.maxValue must exceed minValue');
  const techniques = ((raw.techniques ?? []) as Array<Record<string, unknown>>).map((t, i) => {
    known(t, TECHNIQUE, `techniques[${i}]`);
    const id = str(t.techniqueID, `techniques[${i}].techniqueID`);
    if (!/^T\d{4}(\.\d{3})?$/.test(id)) fail(`techniques[${i}].techniqueID ${id}`);
    if (t.score !== undefined && typeof t.score !== 'number') fail(`techniques[${i}].score`);
    const color = t.color === undefined ? '' : str(t.color, `techniques[${i}].color`);
    if (color !== '' && !COLOR.test(color)) fail(`techniques[${i}].color ${color}`);
    return {
      techniqueID: id,
      ...(t.tactic === undefined ? {} : { tactic: str(t.tactic, `techniques[${i}].tactic`) }),
      ...(t.score === undefined ? {} : { score: t.score as number }),
      color,
      comment: t.comment === undefined ? '' : str(t.comment, `techniques[${i}].comment`),
      enabled: bool(t.enabled, true, `techniques[${i}].enabled`),
      links: links(t.links, `techniques[${i}].links`),
      metadata: metadata(t.metadata, `techniques[${i}].metadata`),
      showSubtechniques: bool(t.showSubtechniques, false, `techniques[${i}].showSubtechniques`),
    };
  });
  const legendItems = ((raw.legendItems ?? []) as Array<Record<string, unknown>>).map((l, i) => ({
    label: str(l.label, `legendItems[${i}].label`),
    color: str(l.color, `legendItems[${i}].color`),
  }));
  links(raw.links, 'links');
  metadata(raw.metadata, 'metadata');
  return {
    name: str(raw.name, 'name'),
    domain: domain as ReadLayer['domain'],
    versions: {
      ...(versions.attack === undefined ? {} : { attack: str(versions.attack, 'versions.attack') }),
      navigator,
      layer: '4.5',
    },
    description: raw.description === undefined ? '' : str(raw.description, 'description'),
    sorting: sorting as ReadLayer['sorting'],
    techniques,
    gradient,
    legendItems,
  };
}

/** The layer as the reader understood it, written back: a second read must give the same. */
export function writeLayer(layer: ReadLayer): string {
  return JSON.stringify(layer);
}
