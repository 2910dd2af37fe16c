import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { loadQueries } from '../shared/cypher';
import type { Logger } from '../shared/logger';
import type { Graph } from '../shared/neo4j';

const QUERIES = ['sync/lease-acquire', 'sync/lease-renew', 'sync/lease-release'] as const;

/** The one lease every writer of ATT&CK releases takes: service instances, workers and the CLI. */
export const SYNC_LEASE = 'attack-sync';

export interface Held {
  owner: string;
  /** Aborted when a renewal finds the lease lost (expired and taken by another holder). */
  lost: AbortSignal;
  release(): Promise<void>;
}

export type LeaseOutcome =
  { acquired: true; held: Held } | { acquired: false; owner: string; expiresAt: string };

/**
 * A lease lock in Neo4j: owner and expiry on one node, renewed while the holder runs, so a crashed
 * holder's lease simply expires. Works against any Neo4j the service can reach (a cluster too).
 */
export class Lease {
  private readonly q = loadQueries(QUERIES);

  constructor(
    private readonly graph: Graph,
    private readonly log: Logger,
    private readonly ttlMs: number,
    private readonly name = SYNC_LEASE,
  ) {}

  static owner(label: string): string {
    return `${hostname()}:${process.pid}:${label}:${randomUUID().slice(0, 8)}`;
  }

  async acquire(owner: string): Promise<LeaseOutcome> {
    const [row] = await this.graph.write<{ acquired: boolean; owner: string; expiresAt: string }>(
      this.q['sync/lease-acquire'],
      { name: this.name, owner, ttlMs: this.ttlMs },
    );
    if (!row?.acquired) {
      return { acquired: false, owner: row?.owner ?? 'unknown', expiresAt: row?.expiresAt ?? '' };
    }
    const lost = new AbortController();
    const timer = setInterval(
      () => {
        this.graph
          .write(this.q['sync/lease-renew'], { name: this.name, owner, ttlMs: this.ttlMs })
          .then((rows) => {
            if (rows.length === 0)
              lost.abort(new Error('the sync lease was lost to another holder'));
          })
          .catch((err: unknown) =>
            this.log.warn({ err: (err as Error).message }, 'could not renew the sync lease'),
          );
      },
      Math.max(250, Math.floor(this.ttlMs / 3)),
    );
    timer.unref();
    return {
      acquired: true,
      held: {
        owner,
        lost: lost.signal,
        release: async () => {
          clearInterval(timer);
          await this.graph
            .write(this.q['sync/lease-release'], { name: this.name, owner })
            .catch((err: unknown) =>
              // It expires by itself; a failed release only delays the next holder.
              this.log.warn({ err: (err as Error).message }, 'could not release the sync lease'),
            );
        },
      },
    };
  }
}
