import { randomUUID } from 'node:crypto';
import { loadQueries } from '../shared/cypher';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnprocessableError,
} from '../shared/errors';
import type { Graph, Tx } from '../shared/neo4j';
import { accessParams, type Viewer } from '../auth/access';
import type { Authorizer, EntityAccess, EntityAction } from '../auth/authorization';

const QUERIES = [
  'mappings/resolve-techniques',
  'mappings/domain-versions',
  'mappings/read-entities',
  'mappings/upsert-entities',
  'mappings/entity-events',
  'mappings/create',
  'mappings/page',
  'mappings/update',
  'mappings/delete',
  'mappings/events',
  'mappings/remap-revoked',
  'mappings/flag-stale',
  'mappings/remap-done',
  'mappings/refresh-guards',
  'mappings/set-access',
  'mappings/create-parents',
  'mappings/create-fresh-alert',
  'mappings/create-fresh-incident',
  'mappings/create-fresh-observable',
  'mappings/gate',
  'mappings/gate-all',
] as const;

/** The three things a SOC platform maps to techniques, with the field that names each. */
export const KINDS = {
  alert: { label: 'Alert', idField: 'alert_id' },
  incident: { label: 'Incident', idField: 'incident_id' },
  observable: { label: 'Observable', idField: 'observable_id' },
} as const;
export type Kind = keyof typeof KINDS;

export const SOURCES = ['manual', 'rule', 'enrichment', 'auto'] as const;
export const MAX_BULK = 10_000;
/** A write hit a uniqueness constraint: another request created the same thing first. */
const constraintFailed = (err: unknown) =>
  (err as { code?: string } | null)?.code === 'Neo.ClientError.Schema.ConstraintValidationFailed';

/** One create's request as planned, and the entities it found: what its write steps share. */
interface Batch {
  kind: Kind;
  now: string;
  rows: MappingRow[];
  entities: Map<string, Entity>;
  found: Map<string, AccessRow>;
  /** Whether an entity's write involves a restriction (its guards must be recomputed). */
  guarded: (w: EntityWrite) => boolean;
}

/** What a create answers for one item. */
interface Written {
  index: number;
  id: string;
  created: boolean;
}

/** Who reads, in which tenant: what they see follows the entities' access (see auth/access). */
export interface Reader extends Viewer {
  tenant: string;
}

/** Who acts, in which tenant, and how far their write permissions reach (Casbin decides). */
export interface Actor extends Reader {
  scope: 'own' | 'any';
}

/** Who creates mappings, and which existing entities' fields and parents they may change. */
export interface Creator extends Reader {
  /** From Casbin's entities:update-any / update-own; null: none. */
  entityScope: 'own' | 'any' | null;
}

/** A mapping as the API receives it (already checked against openapi.yaml). */
export type MappingInput = Record<string, unknown> & {
  technique: string;
  tactic?: string;
  source?: string;
  confidence?: number;
  procedure?: string;
  occurred_at?: string;
  allow_deprecated?: boolean;
  update_entity?: boolean;
  /** The entity's access settings, set with the mapping (its editors' and tenant admins' call). */
  entity_access?: Partial<EntityAccess>;
  /** Why the enrichment engine suggested it (auto/ only; not accepted from clients). */
  evidence?: unknown[];
};

interface Resolved {
  given: string;
  stixId: string;
  attackId: string | null;
  revoked: boolean;
  activeStixId: string;
  activeAttackId: string | null;
  activeName: string | null;
  activeDeprecated: boolean;
  activeRevoked: boolean;
  tactics: string[];
  domain: string | null;
}

interface View {
  mapping: Record<string, unknown>;
  technique: Record<string, unknown>;
  incidentId: string | null;
  alertId: string | null;
}

/** An entity as a request names it: its fields and parents (later items win). */
interface Entity {
  id: string;
  props: Record<string, unknown>;
  incidentId: string | null;
  alertId: string | null;
  /** Indexes of the items that name it, and whether any asks to change it. */
  items: number[];
  update: boolean;
  /** Access settings the items give for it (the last one wins). */
  access: EntityAccess | null;
}

interface ExistingEntity {
  id: string;
  props: Record<string, unknown>;
  createdBy: string | null;
  incidentId: string | null;
  alertId: string | null;
}

/** One row of cypher/mappings/upsert-entities.cypher. */
interface EntityWrite {
  id: string;
  label: string;
  kind: Kind;
  create: boolean;
  props: Record<string, unknown>;
  incidentId: string | null;
  alertId: string | null;
  event: { id: string; action: 'created' | 'updated'; changes: string } | null;
}

/** The parameters of cypher/mappings/page.cypher; null means "not filtered". */
interface PageFilters {
  ids: string[] | null;
  kind: Kind | null;
  entityId: string | null;
  technique: string | null;
  includeSubtechniques: boolean;
  tactics: string[] | null;
  sources: string[] | null;
  minConfidence: number | null;
  createdAfter: string | null;
  createdBefore: string | null;
  occurredAfter: string | null;
  occurredBefore: string | null;
  stale: boolean | null;
  changed: boolean;
  limit: number;
  offset: number;
}

/** A page request with no filter (what the benchmark's Cypher-alone runs start from too). */
export const NO_FILTERS: PageFilters = {
  ids: null,
  kind: null,
  entityId: null,
  technique: null,
  includeSubtechniques: false,
  tactics: null,
  sources: null,
  minConfidence: null,
  createdAfter: null,
  createdBefore: null,
  occurredAfter: null,
  occurredBefore: null,
  stale: null,
  changed: false,
  limit: 50,
  offset: 0,
};

const ENTITY_FIELDS: Record<Kind, string[]> = {
  alert: ['title', 'severity', 'status'],
  incident: ['title', 'severity', 'status'],
  observable: ['observable_type', 'observable_value'],
};

/** Settings as stored: absent fields mean what they meant before any was set. */
export function fullAccess(a: Partial<EntityAccess>): EntityAccess {
  return {
    visibility: a.visibility ?? 'tenant',
    owner: a.owner ?? null,
    read_groups: [...new Set(a.read_groups ?? [])].sort(),
    edit_groups: [...new Set(a.edit_groups ?? [])].sort(),
  };
}

/** One row of cypher/mappings/read-entities.cypher: an existing entity and its access chain. */
interface AccessRow extends ExistingEntity {
  label: string;
  chain: EntityAccess[];
}

/** Mappings of tenant data to techniques: every query carries the tenant. */
export class MappingService {
  private readonly q = loadQueries(QUERIES);

  constructor(
    private readonly graph: Graph,
    /** Decides entity access (the sync pipeline's remap needs none). */
    private readonly authorizer: Authorizer | null = null,
  ) {}

  /**
   * A write transaction on one tenant's data, through the tenant's gate (see gate.cypher). The
   * gate is taken last, so that writers of a tenant queue only for each other's commit, not for
   * each other's work; a backup holding the gate still sees each write whole or not at all.
   */
  private tenantWrite<R>(tenant: string, work: (tx: Tx) => Promise<R>): Promise<R> {
    return this.graph.writeTransaction(async (tx) => {
      const out = await work(tx);
      await tx.run(this.q['mappings/gate'], { tenant });
      return out;
    });
  }

  private async decide(
    viewer: Viewer & { entityScope?: 'own' | 'any' | null },
    action: EntityAction,
    chain: EntityAccess[],
  ) {
    if (!this.authorizer) throw new Error('entity access decisions need the authorizer');
    return this.authorizer.entity({ ...viewer, scope: viewer.entityScope ?? null }, action, chain);
  }

  /** The named entities that exist, by `label:id`, with their access chains (read-entities). */
  private async found(
    run: (q: string, p: Record<string, unknown>) => Promise<AccessRow[]>,
    tenant: string,
    refs: Array<{ label: string; id: string }>,
  ): Promise<Map<string, AccessRow>> {
    if (refs.length === 0) return new Map();
    const ids = (label: string) => refs.filter((r) => r.label === label).map((r) => r.id);
    const rows = await run(this.q['mappings/read-entities'], {
      tenant,
      alerts: ids('Alert'),
      incidents: ids('Incident'),
      observables: ids('Observable'),
    });
    return new Map(rows.map((r) => [`${r.label}:${r.id}`, r]));
  }

  private async chains(
    run: (q: string, p: Record<string, unknown>) => Promise<AccessRow[]>,
    tenant: string,
    refs: Array<{ label: string; id: string }>,
  ): Promise<Map<string, EntityAccess[]>> {
    const found = await this.found(run, tenant, refs);
    return new Map([...found].map(([k, r]) => [k, r.chain]));
  }

  /**
   * Before a create writes anything: every existing entity it maps must be one the caller may edit,
   * every existing parent it names one the caller may read. What the caller may not read answers
   * as missing (404), what it reads but may not edit as forbidden; each lists the items.
   */
  private async checkEntities(
    tx: { run<T>(q: string, p?: Record<string, unknown>): Promise<T[]> },
    actor: Creator,
    kind: Kind,
    entities: Map<string, Entity>,
  ): Promise<Map<string, AccessRow>> {
    const label = KINDS[kind].label;
    const refs = new Map<string, { label: string; id: string; items: number[] }>();
    const add = (l: string, id: string, items: number[]) => {
      const ref = refs.get(`${l}:${id}`) ?? { label: l, id, items: [] };
      ref.items.push(...items);
      refs.set(`${l}:${id}`, ref);
    };
    for (const e of entities.values()) {
      add(label, e.id, e.items);
      if (e.incidentId !== null && kind !== 'incident') add('Incident', e.incidentId, e.items);
      if (e.alertId !== null && kind === 'observable') add('Alert', e.alertId, e.items);
    }
    const found = await this.found(
      (q, p) => tx.run<AccessRow>(q, p),
      actor.tenant,
      [...refs.values()].map(({ label: l, id }) => ({ label: l, id })),
    );
    const missing: ItemProblem[] = [];
    const denied: ItemProblem[] = [];
    for (const [key, ref] of refs) {
      const chain = found.get(key)?.chain;
      if (!chain) continue; // created by this request
      const self = ref.label === label;
      const problem = (list: ItemProblem[], message: string) => {
        for (const index of new Set(ref.items))
          list.push({ index, path: self ? KINDS[kind].idField : 'parent', message });
      };
      const sharing = self && entities.get(ref.id)?.access;
      if (!(await this.decide(actor, 'read', chain)))
        problem(missing, `no ${ref.label.toLowerCase()} ${ref.id}`);
      else if (self && !(await this.decide(actor, 'edit', chain)))
        problem(denied, `you may not change ${kind} ${ref.id} (its access settings)`);
      else if (sharing && !(await this.decide(actor, 'share', chain)))
        problem(denied, `you may not change who sees ${kind} ${ref.id} (entity_access)`);
    }
    if (missing.length > 0)
      throw new NotFoundError(
        `${missing.length} item(s) name entities that do not exist for you; none was created`,
        { errors: missing },
      );
    if (denied.length > 0)
      throw new ForbiddenError(
        `${denied.length} item(s) map entities you may not change; none was created`,
        { errors: denied },
      );
    return found;
  }

  /** Writes an entity's new access settings with their audit event; null when nothing changed. */
  private async writeAccess(
    tx: { run<T>(q: string, p?: Record<string, unknown>): Promise<T[]> },
    actor: Reader,
    kind: Kind,
    id: string,
    before: EntityAccess,
    access: EntityAccess,
    now: string,
  ): Promise<string | null> {
    const diff: Record<string, { from: unknown; to: unknown }> = {};
    for (const k of Object.keys(access) as Array<keyof EntityAccess>)
      if (JSON.stringify(before[k]) !== JSON.stringify(access[k]))
        diff[k] = { from: before[k], to: access[k] };
    if (Object.keys(diff).length === 0) return null;
    const [row] = await tx.run<{ element: string }>(this.q['mappings/set-access'], {
      tenant: actor.tenant,
      label: KINDS[kind].label,
      kind,
      id,
      access,
      eventId: randomUUID(),
      actor: actor.userId,
      now,
      diff: JSON.stringify(diff),
    });
    return row?.element ?? null;
  }

  /** An entity's access settings: for whoever may read it, and tenant admins (manage). */
  async access(
    reader: Reader & { manage: boolean },
    kind: Kind,
    id: string,
  ): Promise<EntityAccess> {
    const chain = (
      await this.chains((q, p) => this.graph.read<AccessRow>(q, p), reader.tenant, [
        { label: KINDS[kind].label, id },
      ])
    ).get(`${KINDS[kind].label}:${id}`);
    if (!chain || !(reader.manage || (await this.decide(reader, 'read', chain))))
      throw new NotFoundError(`no ${kind} with id ${id}`);
    const self = chain[0] as EntityAccess;
    return fullAccess(self);
  }

  /**
   * Sets an entity's access settings (its owner and edit groups, the role's reach over entities,
   * tenant admins: the policy's share rule), audited; the entity, what is
   * part of it and their mappings follow at once (one transaction).
   */
  async setAccess(
    actor: Reader & { manage: boolean; entityScope: 'own' | 'any' | null },
    kind: Kind,
    id: string,
    given: Partial<EntityAccess>,
  ): Promise<EntityAccess> {
    const access = fullAccess(given);
    const label = KINDS[kind].label;
    await this.tenantWrite(actor.tenant, async (tx) => {
      const chain = (
        await this.chains((q, p) => tx.run<AccessRow>(q, p), actor.tenant, [{ label, id }])
      ).get(`${label}:${id}`);
      if (!chain) throw new NotFoundError(`no ${kind} with id ${id}`);
      if (!actor.manage && !(await this.decide(actor, 'share', chain))) {
        if (!(await this.decide(actor, 'read', chain)))
          throw new NotFoundError(`no ${kind} with id ${id}`);
        throw new ForbiddenError(`you may not change the access settings of ${kind} ${id}`);
      }
      const element = await this.writeAccess(
        tx,
        actor,
        kind,
        id,
        chain[0] as EntityAccess,
        access,
        new Date().toISOString(),
      );
      if (element !== null)
        await tx.run(this.q['mappings/refresh-guards'], {
          ...accessParams(actor),
          entities: [element],
        });
    });
    return access;
  }

  private async resolve(ids: string[]): Promise<Map<string, Resolved>> {
    const rows = await this.graph.read<Resolved>(this.q['mappings/resolve-techniques'], {
      ids: [...new Set(ids)],
    });
    return new Map(rows.map((r) => [r.given, r]));
  }

  /**
   * Creates mappings, all or none; an existing identical mapping is answered, not duplicated.
   * Answers ids only: a 10,000-item bulk response with every mapping would cost more than the write.
   */
  async create(actor: Creator, kind: Kind, items: MappingInput[]) {
    if (items.length > MAX_BULK)
      throw new BadRequestError(`at most ${MAX_BULK} mappings per request`);
    const [resolved, versions] = await Promise.all([
      this.resolve(items.map((i) => i.technique)),
      this.graph.read<{ domain: string; version: string }>(this.q['mappings/domain-versions']),
    ]);
    const { rows, entities, errors, warnings } = planMappings(
      actor,
      kind,
      items,
      resolved,
      new Map(versions.map((v) => [v.domain, v.version])),
    );
    const now = new Date().toISOString();
    if (errors.length > 0) {
      throw new UnprocessableError(
        items.length === 1
          ? (errors[0]?.message ?? 'invalid mapping')
          : `${errors.length} of ${items.length} mappings are invalid; none was created`,
        { errors },
      );
    }
    // Without errors every item has its row.
    const valid = rows as MappingRow[];
    // One transaction: the entities read once (fields, parents and access chains); new ones with no
    // restriction involved created outright with their mappings, as a bare CREATE would; the rest
    // merged. A concurrent request creating the same entity first fails the outright creation on a
    // uniqueness constraint: the request then runs again, finding the entity.
    const write = () =>
      this.tenantWrite(actor.tenant, async (tx) => {
        const found = await this.checkEntities(tx, actor, kind, entities);
        const label = KINDS[kind].label;
        const existing = new Map<string, ExistingEntity>();
        for (const r of found.values()) if (r.label === label) existing.set(r.id, r);
        const plan = planEntities(actor, kind, entities, existing);
        if (plan.denied.length > 0) {
          throw new ForbiddenError(
            `you may change only the ${kind}s you created: ${plan.denied.length} item(s) ask to change another's (update_entity)`,
            { errors: plan.denied },
          );
        }
        // Guards change only where a restriction is involved: an entity given access settings, or
        // one linked (newly, or moved) where it or its new parent's chain holds a restricted entity.
        const restrictedAt = (l: string, id: string | null) =>
          id !== null &&
          (found.get(`${l}:${id}`)?.chain ?? []).some((a) => a.visibility === 'restricted');
        const guarded = (w: EntityWrite) =>
          Boolean(entities.get(w.id)?.access) ||
          ((w.incidentId !== null || w.alertId !== null) &&
            (restrictedAt(label, w.id) ||
              restrictedAt('Incident', w.incidentId) ||
              restrictedAt('Alert', w.alertId)));
        const batch: Batch = { kind, now, rows: valid, entities, found, guarded };
        const fresh = plan.writes.filter((w) => w.create && !guarded(w));
        const freshIds = new Set(fresh.map((w) => w.id));
        const created = fresh.length > 0 ? await this.createFresh(tx, actor, batch, fresh) : [];
        const rest = plan.writes.filter((w) => !freshIds.has(w.id));
        if (rest.length > 0) {
          created.push(...(await this.upsert(tx, actor, batch, rest)));
        }
        return { created, warnings: plan.warnings };
      });
    let written: Awaited<ReturnType<typeof write>>;
    try {
      written = await write();
    } catch (err) {
      if (!constraintFailed(err)) throw err;
      try {
        written = await write();
      } catch (again) {
        // A second race in a row: the caller retries, as after any conflict.
        if (!constraintFailed(again)) throw again;
        throw new ConflictError(
          'other requests kept creating the same entities meanwhile; nothing was created, try again',
        );
      }
    }
    const byIndex = new Map(written.created.map((w) => [w.index, w]));
    const warningsOf = new Map<number, string[]>();
    for (const w of [...warnings, ...written.warnings])
      warningsOf.set(w.index, [...(warningsOf.get(w.index) ?? []), w.message]);
    return items.map((_, index) => {
      const w = byIndex.get(index) as { id: string; created: boolean };
      return { index, id: w.id, created: w.created, warnings: warningsOf.get(index) ?? [] };
    });
  }

  /**
   * New entities with no restriction involved, their missing parents and their mappings, created
   * outright (create-parents, create-fresh-<kind>): the first item of each mapping key creates it,
   * later ones answer its id.
   */
  private async createFresh(
    tx: { run<T>(q: string, p?: Record<string, unknown>): Promise<T[]> },
    actor: Creator,
    { kind, now, rows }: Batch,
    fresh: EntityWrite[],
  ): Promise<Written[]> {
    const params = { tenant: actor.tenant, actor: actor.userId, now };
    const parents = new Map<string, { label: string; id: string }>();
    for (const w of fresh) {
      if (w.incidentId !== null)
        parents.set(`Incident:${w.incidentId}`, { label: 'Incident', id: w.incidentId });
      if (w.alertId !== null) parents.set(`Alert:${w.alertId}`, { label: 'Alert', id: w.alertId });
    }
    if (parents.size > 0)
      await tx.run(this.q['mappings/create-parents'], {
        ...params,
        parents: [...parents.values()],
      });
    // Flat parameters, without what the statement derives (the entity's id on its mappings, the
    // technique's own fields): a bulk of 10,000 sends half the bytes and its statement runs about
    // a fifth faster than with each entity's mappings nested in it. The audit events keep the ids
    // planned for them, as on the merge path.
    const position = new Map(fresh.map((w, i) => [w.id, i]));
    const first = new Map<string, MappingRow>();
    const created: Written[] = [];
    const mappings: Record<string, unknown>[] = [];
    for (const r of rows) {
      const entity = position.get(r.entityId);
      if (entity === undefined) continue;
      const earlier = first.get(r.key);
      if (earlier) {
        created.push({ index: r.index, id: earlier.mapping.id as string, created: false });
        continue;
      }
      first.set(r.key, r);
      created.push({ index: r.index, id: r.mapping.id as string, created: true });
      const m = r.mapping;
      mappings.push({
        entity,
        key: r.key,
        id: m.id,
        eventId: r.eventId,
        stixId: r.techniqueStixId,
        changes: r.changes,
        source: m.source,
        confidence: m.confidence,
        version: m.attack_version,
        originalTechniqueId: m.original_technique_id,
        tactic: m.tactic,
        procedure: m.procedure,
        evidence: m.evidence,
        occurredAt: r.occurredAt,
      });
    }
    await tx.run(this.q[`mappings/create-fresh-${kind}`], {
      ...params,
      kind,
      entities: fresh.map((w) => ({
        id: w.id,
        props: w.props,
        incidentId: w.incidentId,
        alertId: w.alertId,
        eventId: w.event?.id,
        changes: w.event?.changes,
      })),
      mappings,
    });
    return created;
  }

  /** Existing entities and restricted new ones: merged, access written, guards refreshed, mappings merged. */
  private async upsert(
    tx: { run<T>(q: string, p?: Record<string, unknown>): Promise<T[]> },
    actor: Creator,
    { kind, now, rows, entities, found, guarded }: Batch,
    writes: EntityWrite[],
  ): Promise<Written[]> {
    const label = KINDS[kind].label;
    const upserted = await tx.run<{ id: string; element: string }>(
      this.q['mappings/upsert-entities'],
      { tenant: actor.tenant, actor: actor.userId, now, entities: writes },
    );
    const elementOf = new Map(upserted.map((u) => [u.id, u.element]));
    // Access given for existing entities (new ones got theirs with their fields), audited.
    for (const e of entities.values()) {
      const chain = found.get(`${label}:${e.id}`)?.chain;
      if (e.access && chain && elementOf.has(e.id))
        await this.writeAccess(tx, actor, kind, e.id, chain[0] as EntityAccess, e.access, now);
    }
    const refreshed = writes.filter(guarded).map((w) => elementOf.get(w.id));
    if (refreshed.length > 0)
      await tx.run(this.q['mappings/refresh-guards'], {
        ...accessParams(actor),
        entities: refreshed,
      });
    return tx.run<Written>(this.q['mappings/create'], {
      tenant: actor.tenant,
      actor: actor.userId,
      now,
      rows: rows
        .filter((r) => elementOf.has(r.entityId))
        .map((r) => ({ ...r, entity: elementOf.get(r.entityId) })),
    });
  }

  /** One page of mappings from the one read statement (see cypher/mappings/page.cypher). */
  private async page(reader: Reader, filters: Partial<PageFilters>) {
    const [row] = await this.graph.read<{ count: number; results: View[] }>(
      this.q['mappings/page'],
      {
        ...NO_FILTERS,
        ...filters,
        ...accessParams(reader),
        tenant: reader.tenant,
      },
    );
    return { count: row?.count ?? 0, results: (row?.results ?? []).map(apiMapping) };
  }

  private async views(reader: Reader, ids: string[], kind: Kind | null = null) {
    const { results } = await this.page(reader, { ids, kind, limit: ids.length });
    return new Map(results.map((v) => [v.id as string, v]));
  }

  async get(reader: Reader, kind: Kind, id: string) {
    const view = (await this.views(reader, [id], kind)).get(id);
    // Another tenant's mapping, or one the caller may not read, answers as a missing one does.
    if (!view) throw new NotFoundError(`no ${kind} mapping with id ${id}`);
    return view;
  }

  async list(
    reader: Reader,
    kind: Kind,
    f: Omit<PageFilters, 'ids' | 'kind' | 'changed' | 'limit' | 'offset'>,
    page: { limit: number; offset: number },
  ) {
    return this.page(reader, { ...f, kind, ...page });
  }

  private async editable(actor: Actor, kind: Kind, id: string) {
    const current = await this.get(actor, kind, id);
    const entityId = String(current[KINDS[kind].idField]);
    const label = KINDS[kind].label;
    const chain = (
      await this.chains((q, p) => this.graph.read<AccessRow>(q, p), actor.tenant, [
        { label, id: entityId },
      ])
    ).get(`${label}:${entityId}`);
    if (!chain || !(await this.decide(actor, 'edit', chain))) {
      throw new ForbiddenError(`you may not change the mappings of ${kind} ${entityId}`);
    }
    if (actor.scope === 'own' && current.created_by !== actor.userId) {
      throw new ForbiddenError('you may change and delete only the mappings you created');
    }
    return current;
  }

  async update(actor: Actor, kind: Kind, id: string, patch: MappingInput | Partial<MappingInput>) {
    const current = await this.editable(actor, kind, id);
    const changes: Record<string, unknown> = {};
    const diff: Record<string, { from: unknown; to: unknown }> = {};
    let techniqueStixId: string | null = null;
    const technique = current.technique as { id: string; stix_id: string };
    let tactics: string[] | null = null;
    if (patch.technique !== undefined) {
      const t = (await this.resolve([patch.technique])).get(patch.technique);
      if (!t) throw new UnprocessableError(`unknown technique ${patch.technique}`);
      if (t.activeDeprecated && patch.allow_deprecated !== true) {
        throw new UnprocessableError(
          `${t.activeAttackId} is deprecated (set allow_deprecated to map it anyway)`,
        );
      }
      if (t.activeStixId !== technique.stix_id) {
        techniqueStixId = t.activeStixId;
        changes.technique_id = t.activeAttackId;
        changes.technique_stix_id = t.activeStixId;
        changes.stale = t.activeDeprecated;
        diff.technique = { from: technique.id, to: t.activeAttackId };
      }
      tactics = t.tactics;
    }
    for (const field of ['tactic', 'source', 'confidence', 'procedure'] as const) {
      if (patch[field] !== undefined && patch[field] !== current[field]) {
        changes[field] = patch[field];
        diff[field] = { from: current[field], to: patch[field] };
      }
    }
    if (changes.tactic !== undefined || techniqueStixId !== null) {
      const tactic = (changes.tactic ?? current.tactic) as string | null;
      const allowed =
        tactics ?? (await this.resolve([technique.stix_id])).get(technique.stix_id)?.tactics ?? [];
      if (tactic !== null && !allowed.includes(tactic)) {
        throw new UnprocessableError(`${tactic} is not a tactic of the mapped technique`);
      }
      changes.key = JSON.stringify([
        kind,
        current[KINDS[kind].idField],
        techniqueStixId ?? technique.stix_id,
        tactic,
      ]);
    }
    if (patch.occurred_at !== undefined)
      diff.occurred_at = { from: current.occurred_at, to: patch.occurred_at };
    if (Object.keys(diff).length === 0) return current;
    try {
      await this.tenantWrite(actor.tenant, (tx) =>
        tx.run(this.q['mappings/update'], {
          id,
          tenant: actor.tenant,
          changes,
          occurredAt: patch.occurred_at ?? null,
          techniqueStixId,
          eventId: randomUUID(),
          actor: actor.userId,
          now: new Date().toISOString(),
          diff: JSON.stringify(diff),
        }),
      );
    } catch (err) {
      if (constraintFailed(err)) {
        throw new ConflictError(
          'an identical mapping (same entity, technique and tactic) already exists',
        );
      }
      throw err;
    }
    return this.get(actor, kind, id);
  }

  async remove(actor: Actor, kind: Kind, id: string): Promise<void> {
    const current = await this.editable(actor, kind, id);
    await this.tenantWrite(actor.tenant, (tx) =>
      tx.run(this.q['mappings/delete'], {
        id,
        tenant: actor.tenant,
        eventId: randomUUID(),
        actor: actor.userId,
        now: new Date().toISOString(),
        diff: JSON.stringify({
          deleted: { technique: (current.technique as { id: string }).id, tactic: current.tactic },
        }),
      }),
    );
  }

  /** The audit trail of an entity of the tenant: its creation and each deliberate change. */
  async entityEvents(reader: Reader, kind: Kind, id: string) {
    const rows = await this.graph.read<{ event: Record<string, unknown> }>(
      this.q['mappings/entity-events'],
      { tenant: reader.tenant, kind, id, ...accessParams(reader) },
    );
    if (rows.length === 0) throw new NotFoundError(`no ${kind} with id ${id}`);
    return rows.map((r) => ({
      ...r.event,
      changes: JSON.parse(r.event.changes as string) as unknown,
    }));
  }

  /** The audit trail of a mapping of the tenant (kept after it is deleted). */
  async events(reader: Reader, id: string) {
    const rows = await this.graph.read<{ event: Record<string, unknown> }>(
      this.q['mappings/events'],
      { tenant: reader.tenant, id, ...accessParams(reader) },
    );
    if (rows.length === 0) throw new NotFoundError(`no mapping with id ${id}`);
    return rows.map((r) => ({
      ...r.event,
      changes: JSON.parse(r.event.changes as string) as unknown,
    }));
  }

  /**
   * After a release: mappings on revoked techniques move to the active end of the chain, those on
   * deprecated techniques are flagged stale. Idempotent; audited as the system.
   */
  async applyRelease(): Promise<{ remapped: number; staleChanged: number }> {
    const now = new Date().toISOString();
    return this.graph.writeTransaction(async (tx) => {
      const [r] = await tx.run<{ remapped: number }>(this.q['mappings/remap-revoked'], { now });
      const [s] = await tx.run<{ changed: number }>(this.q['mappings/flag-stale'], { now });
      await tx.run(this.q['mappings/remap-done']);
      await tx.run(this.q['mappings/gate-all']);
      return { remapped: r?.remapped ?? 0, staleChanged: s?.changed ?? 0 };
    });
  }

  async changes(reader: Reader, kind: Kind | null, page: { limit: number; offset: number }) {
    return this.page(reader, { kind, changed: true, ...page });
  }
}

const PARENT_FIELDS = { incidentId: 'incident_id', alertId: 'alert_id' } as const;

/** One row of cypher/mappings/create.cypher. */
interface MappingRow {
  index: number;
  entityId: string;
  techniqueStixId: string;
  key: string;
  occurredAt: string | null;
  eventId: string;
  changes: string;
  mapping: Record<string, unknown>;
}

interface ItemProblem {
  index: number;
  path: string;
  message: string;
}

/**
 * The validation and planning stage of a create, without the database: each item's technique
 * resolved (revoked → its replacement, with a warning), its row, and the entities the items name
 * (later items' fields win). Errors name the item; any error means nothing is written.
 */
function planMappings(
  actor: Creator,
  kind: Kind,
  items: MappingInput[],
  resolved: Map<string, Resolved>,
  versionOf: Map<string, string>,
): {
  rows: Array<MappingRow | null>;
  entities: Map<string, Entity>;
  errors: ItemProblem[];
  warnings: Array<{ index: number; message: string }>;
} {
  const idField = KINDS[kind].idField;
  const errors: ItemProblem[] = [];
  const warnings: Array<{ index: number; message: string }> = [];
  const entities = new Map<string, Entity>();
  const rows = items.map((item, index): MappingRow | null => {
    const t = resolved.get(item.technique);
    if (!t) {
      errors.push({ index, path: 'technique', message: `unknown technique ${item.technique}` });
      return null;
    }
    if (t.activeRevoked) {
      errors.push({
        index,
        path: 'technique',
        message: `${item.technique} is revoked and has no active replacement`,
      });
      return null;
    }
    if (t.activeDeprecated && item.allow_deprecated !== true) {
      errors.push({
        index,
        path: 'technique',
        message: `${t.activeAttackId ?? item.technique} is deprecated (set allow_deprecated to map it anyway)`,
      });
      return null;
    }
    if (item.tactic !== undefined && !t.tactics.includes(item.tactic)) {
      errors.push({
        index,
        path: 'tactic',
        message: `${item.tactic} is not a tactic of ${t.activeAttackId} (${t.tactics.join(', ') || 'none'})`,
      });
      return null;
    }
    if (t.revoked) {
      warnings.push({
        index,
        message: `${t.attackId ?? item.technique} is revoked: mapped to ${t.activeAttackId} instead`,
      });
    }
    const entityId = String(item[idField]);
    // Later items' fields win, as they would if the items came one request at a time.
    const entity = entities.get(entityId) ?? {
      id: entityId,
      props: {},
      incidentId: null,
      alertId: null,
      items: [],
      update: false,
      access: null,
    };
    if (item.entity_access !== undefined) entity.access = fullAccess(item.entity_access);
    for (const f of ENTITY_FIELDS[kind])
      if (item[f] !== undefined) entity.props[f.replace(/^observable_/, '')] = item[f];
    if (kind !== 'incident' && item.incident_id !== undefined)
      entity.incidentId = item.incident_id as string;
    if (kind === 'observable' && item.alert_id !== undefined)
      entity.alertId = item.alert_id as string;
    entity.items.push(index);
    entity.update ||= item.update_entity === true;
    entities.set(entityId, entity);
    return {
      index,
      entityId,
      techniqueStixId: t.activeStixId,
      key: JSON.stringify([kind, entityId, t.activeStixId, item.tactic ?? null]),
      occurredAt: item.occurred_at ?? null,
      eventId: randomUUID(),
      changes: JSON.stringify({
        created: {
          technique: t.activeAttackId,
          tactic: item.tactic ?? null,
          source: item.source ?? 'manual',
        },
      }),
      mapping: {
        id: randomUUID(),
        kind,
        entity_id: entityId,
        technique_id: t.activeAttackId,
        technique_stix_id: t.activeStixId,
        original_technique_id: t.revoked ? (t.attackId ?? item.technique) : null,
        tactic: item.tactic ?? null,
        source: item.source ?? 'manual',
        confidence: item.confidence ?? 50,
        procedure: item.procedure ?? null,
        created_by: actor.userId,
        attack_version: (t.domain && versionOf.get(t.domain)) ?? null,
        stale: t.activeDeprecated,
        evidence: item.evidence ? JSON.stringify(item.evidence) : null,
      },
    };
  });
  return { rows, entities, errors, warnings };
}

/**
 * What a request does to its entities: new ones are created with what it names; an existing one
 * changes only where an item asks (update_entity) and the caller may edit it (Casbin's
 * entities:update-any, or update-own on one they created); otherwise the difference is a warning.
 */
function planEntities(
  actor: Creator,
  kind: Kind,
  entities: Map<string, Entity>,
  existing: Map<string, ExistingEntity>,
) {
  const writes: EntityWrite[] = [];
  const warnings: Array<{ index: number; message: string }> = [];
  const denied: Array<{ index: number; path: string; message: string }> = [];
  const label = KINDS[kind].label;
  for (const entity of entities.values()) {
    const before = existing.get(entity.id);
    const parents = {
      incidentId: kind === 'incident' ? null : entity.incidentId,
      alertId: kind === 'observable' ? entity.alertId : null,
    };
    if (!before) {
      const props = { ...entity.props, ...(entity.access ?? {}) };
      const fields = { ...props, ...renamedParents(parents) };
      writes.push({
        id: entity.id,
        label,
        kind,
        create: true,
        props,
        ...parents,
        event: { id: randomUUID(), action: 'created', changes: JSON.stringify(fields) },
      });
      continue;
    }
    const diff: Record<string, { from: unknown; to: unknown }> = {};
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(entity.props)) {
      if (v !== (before.props[k] ?? undefined)) {
        props[k] = v;
        diff[k === 'type' || k === 'value' ? `observable_${k}` : k] = {
          from: before.props[k] ?? null,
          to: v,
        };
      }
    }
    const moved = { incidentId: null as string | null, alertId: null as string | null };
    for (const p of ['incidentId', 'alertId'] as const) {
      if (parents[p] !== null && parents[p] !== before[p]) {
        moved[p] = parents[p];
        diff[PARENT_FIELDS[p]] = { from: before[p], to: parents[p] };
      }
    }
    const changed = Object.keys(diff);
    const may =
      actor.entityScope === 'any' ||
      (actor.entityScope === 'own' && before.createdBy === actor.userId);
    if (changed.length > 0 && entity.update && !may) {
      for (const index of entity.items)
        denied.push({
          index,
          path: 'update_entity',
          message: `you may not change ${kind} ${entity.id}`,
        });
    } else if (changed.length > 0 && !entity.update) {
      for (const index of entity.items)
        warnings.push({
          index,
          message: `${kind} ${entity.id} exists: ${changed.join(', ')} left as they are (send update_entity: true to change them)`,
        });
    }
    const apply = changed.length > 0 && entity.update && may;
    writes.push({
      id: entity.id,
      label,
      kind,
      create: false,
      props: apply ? props : {},
      ...(apply ? moved : { incidentId: null, alertId: null }),
      event: apply ? { id: randomUUID(), action: 'updated', changes: JSON.stringify(diff) } : null,
    });
  }
  return { writes, warnings, denied };
}

function renamedParents(p: { incidentId: string | null; alertId: string | null }) {
  const out: Record<string, string> = {};
  for (const k of ['incidentId', 'alertId'] as const)
    if (p[k] !== null) out[PARENT_FIELDS[k]] = p[k];
  return out;
}

function apiMapping(v: View): Record<string, unknown> {
  const m = v.mapping;
  const kind = m.kind as Kind;
  const out: Record<string, unknown> = {
    id: m.id,
    kind,
    [KINDS[kind].idField]: m.entity_id,
    technique: v.technique,
    original_technique_id: m.original_technique_id ?? null,
    tactic: m.tactic ?? null,
    source: m.source,
    confidence: m.confidence,
    procedure: m.procedure ?? null,
    occurred_at: m.occurred_at ?? null,
    created_by: m.created_by,
    created_at: m.created_at,
    updated_at: m.updated_at,
    attack_version: m.attack_version ?? null,
    stale: m.stale === true,
    evidence: typeof m.evidence === 'string' ? (JSON.parse(m.evidence) as unknown[]) : null,
  };
  if (kind !== 'incident') out.incident_id = v.incidentId;
  if (kind === 'observable') out.alert_id = v.alertId;
  return out;
}
