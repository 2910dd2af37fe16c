import neo4j, {
  type Driver,
  type ManagedTransaction,
  type QueryResult,
  type RecordShape,
  isDate,
  isDateTime,
  isDuration,
  isLocalDateTime,
  isLocalTime,
  isNode,
  isRelationship,
  isTime,
} from 'neo4j-driver';
import type { Neo4jConfig } from './config';
import { queryName } from './cypher';
import { DatabaseUnavailableError } from './errors';

export type Params = Record<string, unknown>;

/** Told of every statement run: its name (see cypher.ts), mode, duration and outcome. */
export type QueryObserver = (
  name: string,
  mode: 'READ' | 'WRITE',
  seconds: number,
  failed: boolean,
) => void;

/** A unit of work inside one transaction: every statement commits together or not at all. */
export interface Tx {
  run<T = Record<string, unknown>>(query: string, params?: Params): Promise<T[]>;
}

/**
 * The one owner of the Neo4j driver. Reads are routed as READ (a cluster's followers serve them),
 * the database is always named, and values come back as plain JSON-friendly data.
 */
export interface Graph {
  readonly database: string;
  readonly uri: string;
  read<T = Record<string, unknown>>(query: string, params?: Params): Promise<T[]>;
  write<T = Record<string, unknown>>(query: string, params?: Params): Promise<T[]>;
  readTransaction<R>(work: (tx: Tx) => Promise<R>): Promise<R>;
  writeTransaction<R>(work: (tx: Tx) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}

/** Converts driver values (temporals, nodes, relationships) to plain data, recursively. */
export function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toPlain);
  if (isDateTime(value)) return value.toStandardDate().toISOString();
  if (
    isDate(value) ||
    isLocalDateTime(value) ||
    isLocalTime(value) ||
    isTime(value) ||
    isDuration(value)
  ) {
    return value.toString();
  }
  if (neo4j.isInt(value)) return value.toNumber();
  if (isNode(value) || isRelationship(value)) return toPlain(value.properties);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
  return out;
}

function rows<T>(result: QueryResult<RecordShape>): T[] {
  return result.records.map((r) => toPlain(r.toObject()) as T);
}

function wrap(tx: ManagedTransaction, mode: 'READ' | 'WRITE', observe?: QueryObserver): Tx {
  return {
    run: async <T>(query: string, params: Params = {}) => {
      if (!observe) return rows<T>(await tx.run(query, params));
      const started = process.hrtime.bigint();
      let failed = true;
      try {
        const out = rows<T>(await tx.run(query, params));
        failed = false;
        return out;
      } finally {
        observe(queryName(query), mode, Number(process.hrtime.bigint() - started) / 1e9, failed);
      }
    },
  };
}

export function createDriver(cfg: Neo4jConfig & { uri: string }): Driver {
  const auth =
    cfg.password !== undefined && cfg.password !== ''
      ? neo4j.auth.basic(cfg.user, cfg.password)
      : undefined;
  return neo4j.driver(cfg.uri, auth, {
    // Counts and positions stay far below 2^53: plain numbers are safe and simpler for callers.
    disableLosslessIntegers: true,
    connectionAcquisitionTimeout: 30_000,
    connectionTimeout: 10_000,
    maxTransactionRetryTime: 15_000,
    logging: { level: 'error', logger: () => undefined },
  });
}

const UNAVAILABLE = new Set(['ServiceUnavailable', 'SessionExpired']);

/** A lost or unreachable database (a restart, a network cut) as the error callers map to 503. */
function unavailable(err: unknown): DatabaseUnavailableError | undefined {
  const code = (err as { code?: string } | null)?.code;
  return code && UNAVAILABLE.has(code)
    ? new DatabaseUnavailableError(`the graph database is unavailable: ${(err as Error).message}`)
    : undefined;
}

/** Opens the driver and proves the database answers; a clear error when it does not. */
export async function openGraph(
  cfg: Neo4jConfig & { uri: string },
  observe?: QueryObserver,
): Promise<Graph> {
  const driver = createDriver(cfg);
  try {
    await driver.verifyConnectivity({ database: cfg.database });
  } catch (err) {
    await driver.close();
    throw new DatabaseUnavailableError(
      `cannot reach Neo4j at ${cfg.uri} (database "${cfg.database}"): ${(err as Error).message}`,
    );
  }
  const session = (mode: 'READ' | 'WRITE') =>
    driver.session({
      database: cfg.database,
      defaultAccessMode: mode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE,
    });
  const inSession = async <R>(mode: 'READ' | 'WRITE', work: (tx: Tx) => Promise<R>) => {
    const s = session(mode);
    try {
      return mode === 'READ'
        ? await s.executeRead((tx) => work(wrap(tx, mode, observe)))
        : await s.executeWrite((tx) => work(wrap(tx, mode, observe)));
    } catch (err) {
      throw unavailable(err) ?? err;
    } finally {
      await s.close();
    }
  };
  return {
    database: cfg.database,
    uri: cfg.uri,
    read: (query, params) => inSession('READ', (tx) => tx.run(query, params)),
    write: (query, params) => inSession('WRITE', (tx) => tx.run(query, params)),
    readTransaction: (work) => inSession('READ', work),
    writeTransaction: (work) => inSession('WRITE', work),
    close: () => driver.close(),
  };
}
