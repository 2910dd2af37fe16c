import { once } from 'node:events';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadQueries } from '../shared/cypher';
import { ConflictError, InvalidBundleError } from '../shared/errors';
import type { Graph, Tx } from '../shared/neo4j';
import { packageVersion } from '../shared/paths';

const QUERIES = [
  'operations/backup-lock',
  'operations/backup-incidents',
  'operations/backup-alerts',
  'operations/backup-observables',
  'operations/backup-mappings',
  'operations/backup-mapping-events',
  'operations/backup-entity-events',
  'operations/restore-entities',
  'operations/restore-parents',
  'operations/restore-mappings',
  'operations/restore-events',
  'operations/restore-gates',
  'operations/tenant-data',
  'operations/techniques-present',
  'operations/wipe',
  'mappings/domain-versions',
] as const;

export const BACKUP_FORMAT = 'ttpgraph-tenant-backup';
export const BACKUP_VERSION = 1;
const BATCH = 2_000;
/** Parents before children: an alert is part of an incident, an observable of an alert. */
const ENTITY_LABELS = ['Incident', 'Alert', 'Observable'] as const;
const ENTITY_QUERIES = {
  Incident: 'operations/backup-incidents',
  Alert: 'operations/backup-alerts',
  Observable: 'operations/backup-observables',
} as const;
const EVENT_LABELS = ['MappingEvent', 'EntityEvent'] as const;

/** A property as typed-props.cypher reads it: key, Cypher type, value (exact string forms). */
interface TypedProp {
  k: string;
  t: string;
  v: unknown;
}
/** In the file: JSON's own types as they are, the others tagged with their Cypher type. */
type Props = Record<string, unknown>;
type Tagged = { $type: string; value: unknown };

const PLAIN_TYPE = /^(STRING|BOOLEAN|LIST<(STRING|BOOLEAN|NOTHING)( NOT NULL)?>)( NOT NULL)?$/;
const TAGGED_TYPE =
  /^(INTEGER|FLOAT|ZONED DATETIME|LOCAL DATETIME|DATE|ZONED TIME|LOCAL TIME|DURATION|LIST<(INTEGER|FLOAT|ZONED DATETIME)( NOT NULL)?>)( NOT NULL)?$/;

function encodeProps(props: TypedProp[], where: string): Props {
  const out: Props = {};
  // In key order: two backups of one state are the same bytes (keys() has no defined order).
  for (const p of [...props].sort((a, b) => (a.k < b.k ? -1 : 1))) {
    if (PLAIN_TYPE.test(p.t)) out[p.k] = p.v;
    else if (TAGGED_TYPE.test(p.t)) out[p.k] = { $type: p.t, value: p.v } satisfies Tagged;
    // Said, not skipped: a backup that silently drops a property is not a backup.
    else throw new Error(`${where}: property ${p.k} has a type backups do not carry (${p.t})`);
  }
  return out;
}

function decodeProps(props: Props): { plain: Props; typed: TypedProp[] } {
  const plain: Props = {};
  const typed: TypedProp[] = [];
  for (const [k, v] of Object.entries(props)) {
    const tag = v as Partial<Tagged> | null;
    if (tag && typeof tag === 'object' && !Array.isArray(tag) && typeof tag.$type === 'string')
      typed.push({ k, t: tag.$type, v: tag.value });
    else plain[k] = v;
  }
  return { plain, typed };
}

interface EntityRef {
  label: string;
  tenant: string;
  id: string;
}
type BackupRecord =
  | { type: 'entity'; label: string; props: Props; parents: Array<{ label: string; id: string }> }
  | { type: 'mapping'; entity: EntityRef; technique: string; props: Props }
  | { type: 'event'; label: string; mapping: string | null; props: Props };

interface Header {
  format: string;
  version: number;
  created_at: string;
  ttpgraph: string;
  attack: Array<{ domain: string; version: string | null }>;
  gates: Array<{ tenant: string; writes: number }>;
}

export interface BackupCounts {
  tenants: number;
  entities: number;
  mappings: number;
  events: number;
}

export type BackupProgress = (phase: string, done: number, total: number) => void;

/**
 * Tenant data out to portable JSON lines and back: entities with their parents and access
 * settings, mappings, and the audit events. ATT&CK is not in it (a release is imported again);
 * the header names the releases the mappings were taken on.
 */
export class BackupService {
  private readonly q = loadQueries(QUERIES);

  constructor(private readonly graph: Graph) {}

  /**
   * Writes the backup to `file` (through `file.partial`, renamed when complete). One transaction
   * holds every tenant's gate while it reads: writes wait, and the file is one consistent state.
   */
  async backup(file: string, progress: BackupProgress = () => undefined): Promise<BackupCounts> {
    const partial = `${file}.partial`;
    try {
      const counts = await this.graph.writeTransaction((tx) =>
        this.backupIn(tx, partial, progress),
      );
      renameSync(partial, file);
      return counts;
    } catch (err) {
      rmSync(partial, { force: true });
      throw err;
    }
  }

  private async backupIn(tx: Tx, file: string, progress: BackupProgress): Promise<BackupCounts> {
    // A retried transaction starts the file again.
    const out = createWriteStream(file);
    const write = async (record: unknown) => {
      if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
    };
    try {
      const [lock] = await tx.run<{ gates: Header['gates'] }>(this.q['operations/backup-lock'], {
        now: new Date().toISOString(),
      });
      const attack = await tx.run<{ domain: string; version: string | null }>(
        this.q['mappings/domain-versions'],
      );
      const header: Header = {
        format: BACKUP_FORMAT,
        version: BACKUP_VERSION,
        created_at: new Date().toISOString(),
        ttpgraph: packageVersion(),
        attack,
        gates: lock?.gates ?? [],
      };
      await write(header);
      const counts: BackupCounts = {
        tenants: header.gates.length,
        entities: 0,
        mappings: 0,
        events: 0,
      };
      for (const label of ENTITY_LABELS) {
        counts.entities += await tx.each<{
          tenant: string;
          id: string;
          props: TypedProp[];
          parents: Array<{ label: string; id: string }>;
        }>(this.q[ENTITY_QUERIES[label]], {}, (r) =>
          write({
            type: 'entity',
            label,
            props: encodeProps(r.props, `${label} ${r.tenant}/${r.id}`),
            parents: r.parents,
          }),
        );
        progress('entities', counts.entities, 0);
      }
      counts.mappings = await tx.each<{
        id: string;
        props: TypedProp[];
        entity: EntityRef | null;
        technique: string | null;
      }>(this.q['operations/backup-mappings'], {}, (r) => {
        if (!r.entity || !r.technique)
          throw new Error(`mapping ${r.id} has no ${r.entity ? 'technique' : 'entity'}`);
        return write({
          type: 'mapping',
          entity: r.entity,
          technique: r.technique,
          props: encodeProps(r.props, `mapping ${r.id}`),
        });
      });
      progress('mappings', counts.mappings, 0);
      for (const label of EVENT_LABELS) {
        counts.events += await tx.each<{ id: string; props: TypedProp[]; mapping: string | null }>(
          this.q[
            label === 'MappingEvent'
              ? 'operations/backup-mapping-events'
              : 'operations/backup-entity-events'
          ],
          {},
          (r) =>
            write({
              type: 'event',
              label,
              mapping: r.mapping,
              props: encodeProps(r.props, `${label} ${r.id}`),
            }),
        );
        progress('audit events', counts.events, 0);
      }
      await write({ type: 'end', counts });
      out.end();
      await once(out, 'finish');
      return counts;
    } catch (err) {
      out.destroy();
      throw err;
    }
  }

  /** Reads a backup file through, checking its header, records and trailer; nothing is written. */
  private async *records(file: string): AsyncGenerator<BackupRecord | Header> {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    let n = 0;
    let ended = false;
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      if (ended) throw new InvalidBundleError(`${file}:${n}: data after the end record`);
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new InvalidBundleError(`${file}:${n}: not JSON`);
      }
      if (n === 1) {
        if (record.format !== BACKUP_FORMAT)
          throw new InvalidBundleError(
            `${file} is not a ttpgraph backup (no ${BACKUP_FORMAT} header)`,
          );
        if (record.version !== BACKUP_VERSION)
          throw new InvalidBundleError(
            `${file} is a backup of format version ${String(record.version)}; this release reads version ${BACKUP_VERSION}`,
          );
        yield record as unknown as Header;
        continue;
      }
      if (record.type === 'end') {
        ended = true;
        continue;
      }
      if (!['entity', 'mapping', 'event'].includes(record.type as string) || !record.props)
        throw new InvalidBundleError(`${file}:${n}: not a backup record`);
      yield record as unknown as BackupRecord;
    }
    if (!ended) throw new InvalidBundleError(`${file} is cut short: it has no end record`);
  }

  /** Tenant data rows in the database, by label. */
  async tenantData(): Promise<Record<string, number>> {
    const rows = await this.graph.read<{ label: string; n: number }>(
      this.q['operations/tenant-data'],
    );
    return Object.fromEntries(rows.map((r) => [r.label, r.n]));
  }

  /**
   * Restores a backup into a database that holds ATT&CK (the releases the header names, or later
   * ones keeping the same techniques) and no tenant data. The file is checked through first;
   * then written in batches, and on a failure what was restored is removed again.
   */
  async restore(file: string, progress: BackupProgress = () => undefined): Promise<BackupCounts> {
    let header: Header | undefined;
    const techniques = new Set<string>();
    const total: BackupCounts = { tenants: 0, entities: 0, mappings: 0, events: 0 };
    for await (const r of this.records(file)) {
      if ('format' in r) header = r;
      else if (r.type === 'entity') total.entities++;
      else if (r.type === 'event') total.events++;
      else {
        total.mappings++;
        techniques.add(r.technique);
      }
    }
    total.tenants = header?.gates.length ?? 0;
    const present = Object.entries(await this.tenantData()).filter(([, n]) => n > 0);
    if (present.length > 0) {
      throw new ConflictError(
        `the database holds tenant data (${present.map(([l, n]) => `${n} ${l}`).join(', ')}): restore into one without any`,
      );
    }
    const [found] = await this.graph.read<{ present: string[] }>(
      this.q['operations/techniques-present'],
      { ids: [...techniques] },
    );
    const missing = [...techniques].filter((id) => !found?.present.includes(id));
    if (missing.length > 0) {
      const releases = (header?.attack ?? []).map((a) => `${a.domain} ${a.version}`).join(', ');
      throw new ConflictError(
        `${missing.length} technique(s) the backup maps to are not in the graph (${missing.slice(0, 5).join(', ')}): import ATT&CK (${releases}) first`,
      );
    }
    try {
      await this.write(file, total, progress);
      await this.graph.write(this.q['operations/restore-gates'], { gates: header?.gates ?? [] });
    } catch (err) {
      await this.wipe();
      throw err;
    }
    return total;
  }

  /**
   * One batch of records of one type, written in one transaction. A row whose entity, parent or
   * technique is missing would be dropped by its MATCH: the counts written are checked instead.
   */
  private async writeBatch(batch: BackupRecord[]): Promise<void> {
    const wrote = (what: string, rows: unknown[], written: Array<{ restored: number }>) => {
      const n = written[0]?.restored ?? 0;
      if (n !== rows.length)
        throw new InvalidBundleError(`${n} of ${rows.length} ${what} in a batch could be restored`);
    };
    const first = batch[0] as BackupRecord;
    if (first.type === 'entity') {
      const entities = batch as Array<Extract<BackupRecord, { type: 'entity' }>>;
      const rows = entities.map((r) => ({ label: r.label, ...decodeProps(r.props) }));
      const links = entities.flatMap((r) =>
        r.parents.map((parent) => ({
          label: r.label,
          tenant: r.props.tenant,
          id: r.props.id,
          parent,
        })),
      );
      await this.graph.writeTransaction(async (tx) => {
        wrote('entities', rows, await tx.run(this.q['operations/restore-entities'], { rows }));
        if (links.length > 0)
          wrote(
            'parent links',
            links,
            await tx.run(this.q['operations/restore-parents'], { rows: links }),
          );
      });
    } else if (first.type === 'mapping') {
      const rows = (batch as Array<Extract<BackupRecord, { type: 'mapping' }>>).map((r) => ({
        entity: r.entity,
        technique: r.technique,
        ...decodeProps(r.props),
      }));
      wrote(
        'mappings',
        rows,
        await this.graph.write(this.q['operations/restore-mappings'], { rows }),
      );
    } else {
      const rows = (batch as Array<Extract<BackupRecord, { type: 'event' }>>).map((r) => ({
        label: r.label,
        mapping: r.mapping,
        ...decodeProps(r.props),
      }));
      wrote('events', rows, await this.graph.write(this.q['operations/restore-events'], { rows }));
    }
  }

  private async write(file: string, total: BackupCounts, progress: BackupProgress): Promise<void> {
    // The file's order (entities, mappings, events) is the order of their dependencies: a batch
    // of one type is written before any record of a later type.
    const order = ['entity', 'mapping', 'event'] as const;
    const counted = { entity: 'entities', mapping: 'mappings', event: 'events' } as const;
    const phase = { entity: 'entities', mapping: 'mappings', event: 'audit events' } as const;
    const batches = { entity: [], mapping: [], event: [] } as Record<
      BackupRecord['type'],
      BackupRecord[]
    >;
    const done = { entity: 0, mapping: 0, event: 0 };
    const flush = async (type: BackupRecord['type']) => {
      const batch = batches[type];
      if (batch.length === 0) return;
      await this.writeBatch(batch);
      done[type] += batch.length;
      progress(phase[type], done[type], total[counted[type]]);
      batches[type] = [];
    };
    for await (const r of this.records(file)) {
      if ('format' in r) continue;
      for (const earlier of order.slice(0, order.indexOf(r.type))) await flush(earlier);
      batches[r.type].push(r);
      if (batches[r.type].length >= BATCH) await flush(r.type);
    }
    for (const type of order) await flush(type);
  }

  /** Removes every tenant's data (a failed restore's partial work), batch by batch. */
  async wipe(): Promise<void> {
    for (;;) {
      const [row] = await this.graph.write<{ removed: number }>(this.q['operations/wipe']);
      if ((row?.removed ?? 0) === 0) break;
    }
  }
}
