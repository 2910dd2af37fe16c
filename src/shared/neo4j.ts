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
  /** Streams the rows to `onRow` as they arrive (awaiting it: backpressure); resolves the count. */
  each<T = Record<string, unknown>>(
    query: string,
    params: Params,
    onRow: (row: T) => Promise<void> | void,
  ): Promise<number>;
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
  /**
   * The same graph with its reads served by the writer (a cluster's leader): for tenant data,
   * which another replica may have written a moment ago. ATT&CK reads stay on followers.
   */
  readonly latest: Graph;
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
  const observed = async <R>(query: string, work: () => Promise<R>): Promise<R> => {
    if (!observe) return work();
    const started = process.hrtime.bigint();
    let failed = true;
    try {
      const out = await work();
      failed = false;
      return out;
    } finally {
      observe(queryName(query), mode, Number(process.hrtime.bigint() - started) / 1e9, failed);
    }
  };
  return {
    run: <T>(query: string, params: Params = {}) =>
      observed(query, async () => rows<T>(await tx.run(query, params))),
    each: <T>(query: string, params: Params, onRow: (row: T) => Promise<void> | void) =>
      observed(query, async () => {
        let n = 0;
        for await (const record of tx.run(query, params)) {
          await onRow(toPlain(record.toObject()) as T);
          n++;
        }
        return n;
      }),
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
    connectionTimeout: 5_000,
    // Deadlocks and leader changes are retried for this long; a lost database is the breaker's.
    maxTransactionRetryTime: 5_000,
    logging: { level: 'error', logger: () => undefined },
  });
}

/** The database is gone (stopped, restarting, unreachable): the breaker opens. */
const UNAVAILABLE = new Set([
  'ServiceUnavailable',
  'SessionExpired',
  'Neo.TransientError.General.DatabaseUnavailable',
]);

/**
 * A lost or unreachable database (a restart, a network cut) as the error callers map to 503, and
 * so is a transient error the driver's retries did not outlast (a transaction terminated by a
 * shutting-down server, a deadlock that kept coming back): asking again later is the answer.
 */
function unavailable(err: unknown): { error: DatabaseUnavailableError; lost: boolean } | undefined {
  const code = (err as { code?: string } | null)?.code;
  if (!code) return undefined;
  const lost = UNAVAILABLE.has(code);
  if (!lost && !code.startsWith('Neo.TransientError.')) return undefined;
  return {
    error: new DatabaseUnavailableError(
      `the graph database is unavailable: ${(err as Error).message}`,
    ),
    lost,
  };
}

/** How often, while the database is lost, one caller is let through to find out if it is back. */
export const PROBE_INTERVAL_MS = 1_000;

/**
 * A circuit breaker on the database: once a statement finds it unreachable, callers are answered
 * at once (503) instead of each waiting out the driver's connection and retry timeouts, and one
 * caller a second goes through as the probe; its success closes the breaker.
 */
class Breaker {
  private lostAt = 0;
  private nextProbe = 0;
  private reason = '';

  check(): void {
    if (this.lostAt === 0) return;
    const now = Date.now();
    if (now >= this.nextProbe) {
      this.nextProbe = now + PROBE_INTERVAL_MS;
      return;
    }
    const seconds = Math.round((now - this.lostAt) / 1000);
    throw new DatabaseUnavailableError(
      `the graph database is unavailable (for ${seconds} s: ${this.reason}); retrying in the background`,
    );
  }

  lost(reason: string): void {
    if (this.lostAt === 0) this.lostAt = Date.now();
    this.nextProbe = Date.now() + PROBE_INTERVAL_MS;
    this.reason = reason;
  }

  answered(): void {
    this.lostAt = 0;
  }
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
  // One bookmark chain for the process: what it wrote, it reads next, wherever the read runs.
  const bookmarkManager = neo4j.bookmarkManager();
  const breaker = new Breaker();
  const inSession = async <R>(
    mode: 'READ' | 'WRITE',
    routing: 'READ' | 'WRITE',
    work: (tx: Tx) => Promise<R>,
  ) => {
    breaker.check();
    const s = driver.session({
      database: cfg.database,
      defaultAccessMode: routing === 'READ' ? neo4j.session.READ : neo4j.session.WRITE,
      bookmarkManager,
    });
    try {
      const out =
        routing === 'READ'
          ? await s.executeRead((tx) => work(wrap(tx, mode, observe)))
          : await s.executeWrite((tx) => work(wrap(tx, mode, observe)));
      breaker.answered();
      return out;
    } catch (err) {
      const failure = unavailable(err);
      if (failure?.lost) breaker.lost((err as Error).message);
      else breaker.answered();
      throw failure?.error ?? err;
    } finally {
      await s.close();
    }
  };
  const view = (readRouting: 'READ' | 'WRITE'): Graph => ({
    database: cfg.database,
    uri: cfg.uri,
    read: (query, params) => inSession('READ', readRouting, (tx) => tx.run(query, params)),
    write: (query, params) => inSession('WRITE', 'WRITE', (tx) => tx.run(query, params)),
    readTransaction: (work) => inSession('READ', readRouting, work),
    writeTransaction: (work) => inSession('WRITE', 'WRITE', work),
    get latest() {
      return latest;
    },
    close: () => driver.close(),
  });
  const latest = view('WRITE');
  return view('READ');
}
