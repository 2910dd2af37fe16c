import { z } from 'zod';

/**
 * STIX 2.1 / ATT&CK schemas, kept in this one module so that MITRE's own
 * @mitre-attack/attack-data-model can replace them once it works with ATT&CK v18 (its 4.x crashes
 * at import with the zod the registry resolves, and v18 needs its unreleased 5.x).
 *
 * The schemas check what ttpgraph relies on and let every other property through untouched: the
 * graph keeps each object's full JSON, and ATT&CK adds fields between releases.
 */

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
// STIX 2.1 §2.9 type names: 3-250 characters of lowercase letters, digits and hyphens.
const TYPE_RE = /^[a-z][a-z0-9-]{1,248}[a-z0-9]$/;
export const STIX_ID_RE = new RegExp(`^([a-z][a-z0-9-]{1,248}[a-z0-9])--${UUID}$`);
// RFC 3339 in UTC, as STIX 2.1 §3.2 requires; fractional seconds of any precision.
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const stixId = z.string().regex(STIX_ID_RE, 'not a STIX identifier (type--UUID)');
const timestamp = z
  .string()
  .regex(TIMESTAMP_RE, 'not an RFC 3339 UTC timestamp')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a valid date');

const externalReference = z.looseObject({
  source_name: z.string().min(1),
  external_id: z.string().optional(),
  url: z.string().optional(),
  description: z.string().optional(),
});

const killChainPhase = z.looseObject({
  kill_chain_name: z.string().min(1),
  phase_name: z.string().min(1),
});

const common = z.looseObject({
  type: z.string().regex(TYPE_RE, 'not a STIX type name'),
  id: stixId,
  spec_version: z.string().optional(),
  created: timestamp.optional(),
  modified: timestamp.optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  revoked: z.boolean().optional(),
  x_mitre_deprecated: z.boolean().optional(),
  x_mitre_version: z.string().optional(),
  x_mitre_attack_spec_version: z.string().optional(),
  x_mitre_domains: z.array(z.string()).optional(),
  x_mitre_platforms: z.array(z.string()).optional(),
  external_references: z.array(externalReference).optional(),
  kill_chain_phases: z.array(killChainPhase).optional(),
  aliases: z.array(z.string()).optional(),
  x_mitre_aliases: z.array(z.string()).optional(),
});

const relationship = common.extend({
  relationship_type: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'not a STIX relationship type'),
  source_ref: stixId,
  target_ref: stixId,
});

const tactic = common.extend({ x_mitre_shortname: z.string().min(1) });

const matrix = common.extend({ tactic_refs: z.array(stixId) });

/** The SDOs and SROs that need more than the common checks; any other type passes with those. */
const byType: Record<string, z.ZodType> = {
  relationship,
  'x-mitre-tactic': tactic,
  'x-mitre-matrix': matrix,
};

// SDOs and SROs (STIX 2.1 §4, §5) must carry created and modified; SCOs and markings need not.
const NEEDS_TIMESTAMPS = new Set([
  'attack-pattern',
  'campaign',
  'course-of-action',
  'identity',
  'intrusion-set',
  'malware',
  'tool',
  'relationship',
  'x-mitre-tactic',
  'x-mitre-matrix',
  'x-mitre-data-source',
  'x-mitre-data-component',
  'x-mitre-detection-strategy',
  'x-mitre-analytic',
  'x-mitre-asset',
  'x-mitre-collection',
]);

export type StixObject = z.infer<typeof common> & Record<string, unknown>;
export type StixRelationship = z.infer<typeof relationship> & Record<string, unknown>;

export const bundleSchema = z.looseObject({
  type: z.literal('bundle', { error: 'type must be "bundle"' }),
  id: z.string().regex(new RegExp(`^bundle--${UUID}$`), 'not a bundle identifier (bundle--UUID)'),
  objects: z.array(z.unknown(), { error: 'objects must be an array' }),
});

export interface SchemaProblem {
  path: string;
  message: string;
}

function problems(err: z.ZodError): SchemaProblem[] {
  return err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Checks one object; returns the typed object or what is wrong with it. */
export function checkObject(
  raw: unknown,
): { ok: true; object: StixObject } | { ok: false; problems: SchemaProblem[] } {
  // One pass with the type's own schema (it extends the common one).
  const type = (raw as { type?: unknown } | null)?.type;
  const schema = (typeof type === 'string' && byType[type]) || common;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: problems(parsed.error) };
  // The schemas only check: the object itself is kept as it came, unknown properties included.
  const obj = raw as StixObject;
  const found: SchemaProblem[] = [];
  const [prefix] = obj.id.split('--');
  if (prefix !== obj.type) {
    found.push({ path: 'id', message: `id prefix "${prefix}" does not match type "${obj.type}"` });
  }
  if (NEEDS_TIMESTAMPS.has(obj.type)) {
    for (const key of ['created', 'modified'] as const) {
      if (obj[key] === undefined) found.push({ path: key, message: `required for ${obj.type}` });
    }
  }
  return found.length > 0 ? { ok: false, problems: found } : { ok: true, object: obj };
}

export function checkBundleShape(
  raw: unknown,
): { ok: true; id: string } | { ok: false; problems: SchemaProblem[] } {
  const r = bundleSchema.safeParse(raw);
  if (!r.success) return { ok: false, problems: problems(r.error) };
  return { ok: true, id: r.data.id };
}
