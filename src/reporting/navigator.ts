import { attackUrl } from './report';

/**
 * ATT&CK Navigator layers (layer format 4.5): what an analyst opens in the Navigator to see an
 * incident, an alert, a group against an incident, or a tenant's window on the matrix.
 */
export const LAYER_FORMAT = '4.5';
const NAVIGATOR_VERSION = '5.1.0';

export interface LayerTechnique {
  techniqueID: string;
  tactic?: string;
  score?: number;
  color?: string;
  comment?: string;
  enabled: boolean;
  metadata: Array<{ name: string; value: string }>;
  links: Array<{ label: string; url: string }>;
  showSubtechniques: boolean;
}

export interface Layer {
  name: string;
  versions: { attack: string; navigator: string; layer: string };
  domain: string;
  description: string;
  filters: { platforms?: string[] };
  sorting: number;
  layout: {
    layout: 'side' | 'flat' | 'mini';
    aggregateFunction: 'average' | 'min' | 'max' | 'sum';
    showID: boolean;
    showName: boolean;
    showAggregateScores: boolean;
    countUnscored: boolean;
    expandedSubtechniques: 'none' | 'annotated' | 'all';
  };
  hideDisabled: boolean;
  techniques: LayerTechnique[];
  gradient: { colors: string[]; minValue: number; maxValue: number };
  legendItems: Array<{ label: string; color: string }>;
  metadata: Array<{ name: string; value: string }>;
  links: Array<{ label: string; url: string }>;
  showTacticRowBackground: boolean;
  tacticRowBackground: string;
  selectTechniquesAcrossTactics: boolean;
  selectSubtechniquesWithParent: boolean;
  selectVisibleTechniques: boolean;
}

export interface LayerEntry {
  technique: string;
  /** A tactic shortname; absent when the entry applies in every tactic of the technique. */
  tactic?: string;
  score: number;
  comment: string;
  color?: string;
}

/** The Navigator's major ATT&CK version ("18.1" → "18"). */
function attackMajor(version: string | null): string {
  return (version ?? '').split('.')[0] || '18';
}

export function buildLayer(input: {
  name: string;
  description: string;
  domain: string;
  attackVersion: string | null;
  entries: LayerEntry[];
  gradient: { colors: string[]; min: number; max: number };
  legend: Array<{ label: string; color: string }>;
  metadata: Array<{ name: string; value: string }>;
}): Layer {
  return {
    name: input.name,
    versions: {
      attack: attackMajor(input.attackVersion),
      navigator: NAVIGATOR_VERSION,
      layer: LAYER_FORMAT,
    },
    domain: input.domain,
    description: input.description,
    filters: {},
    sorting: 3, // by score, descending
    layout: {
      layout: 'side',
      aggregateFunction: 'max',
      showID: true,
      showName: true,
      showAggregateScores: false,
      countUnscored: false,
      expandedSubtechniques: 'annotated',
    },
    hideDisabled: false,
    techniques: input.entries.map((e) => ({
      techniqueID: e.technique,
      ...(e.tactic ? { tactic: e.tactic } : {}),
      score: e.score,
      ...(e.color ? { color: e.color } : {}),
      comment: e.comment,
      enabled: true,
      metadata: [],
      links: [{ label: `${e.technique} on attack.mitre.org`, url: attackUrl(e.technique) }],
      showSubtechniques: false,
    })),
    gradient: {
      colors: input.gradient.colors,
      minValue: input.gradient.min,
      maxValue: input.gradient.max,
    },
    legendItems: input.legend,
    metadata: input.metadata,
    links: [{ label: 'MITRE ATT&CK', url: 'https://attack.mitre.org/' }],
    showTacticRowBackground: false,
    tacticRowBackground: '#dddddd',
    selectTechniquesAcrossTactics: true,
    selectSubtechniquesWithParent: false,
    selectVisibleTechniques: false,
  };
}

/** White → red over counts: the heat of what was seen. */
export const HEAT = ['#ffffffff', '#ffb3b3ff', '#ff3333ff'];
export const COMPARE = {
  both: '#8e44adff',
  incident: '#e74c3cff',
  group: '#3498dbff',
};
