import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../shared/paths';
import { loadQueries } from '../shared/cypher';
import { NotLoadedError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Graph } from '../shared/neo4j';
import { loadCorpus, type Corpus } from './corpus';
import { EnrichmentEngine } from './engine';
import { loadPatterns, type PatternLibrary } from './patterns';

/** Bumped when the engine's features or answers change: weights persisted by another version are not used. */
const ENGINE_VERSION = 11;

export interface ModelInfo {
  /** The ATT&CK releases the model was learnt from (`enterprise-attack 18.1`). */
  attack: string[];
  patterns_version: number;
  techniques: number;
  built_at: string;
}

interface Built {
  key: string;
  engine: EnrichmentEngine;
  info: ModelInfo;
}

/**
 * Owns the enrichment engine of this process: built from the graph on first use and again when
 * the ATT&CK data changes (checked at most every `checkMs`; the previous model answers while the
 * next one is built). The combiner's weights, the expensive part, are kept on disk under the data
 * directory, keyed by the ATT&CK data, the pattern library and the engine version.
 */
export class EnrichmentService {
  private readonly q = loadQueries(['enrichment/version']);
  private readonly patterns: PatternLibrary = loadPatterns();
  private current: Built | null = null;
  private building: Promise<Built> | null = null;
  private checkedAt = 0;

  constructor(
    private readonly graph: Graph,
    private readonly log: Logger,
    private readonly cacheDir: string,
    private readonly checkMs = 30_000,
  ) {}

  /** Builds (or loads) the model now: at start-up, so that the first request does not wait. */
  async warm(): Promise<void> {
    await this.engine().catch((err: unknown) =>
      this.log.warn({ err: (err as Error).message }, 'enrichment model not built yet'),
    );
  }

  /** A release was applied here: check the data at the next use. */
  invalidate(): void {
    this.checkedAt = 0;
  }

  async engine(): Promise<{ engine: EnrichmentEngine; info: ModelInfo }> {
    const now = Date.now();
    if (this.current && now - this.checkedAt < this.checkMs) return this.current;
    this.checkedAt = now;
    const [row] = await this.graph.read<{ key: string[]; versions: string[] }>(
      this.q['enrichment/version'],
    );
    const key = (row?.key ?? []).join('|');
    if (key === '') {
      throw new NotLoadedError(
        'no ATT&CK release loaded yet: enrichment has nothing to learn from',
      );
    }
    if (this.current?.key === key) return this.current;
    this.building ??= this.build(key, row?.versions ?? []).finally(() => {
      this.building = null;
    });
    // The previous model answers while the next one is built.
    if (this.current) {
      this.building.catch(() => undefined);
      return this.current;
    }
    return this.building;
  }

  private async build(key: string, versions: string[]): Promise<Built> {
    const started = Date.now();
    const corpus = await loadCorpus(this.graph);
    const file = path.join(
      this.cacheDir,
      `model-${createHash('sha256')
        .update(`${ENGINE_VERSION}|${this.patterns.digest}|${key}`)
        .digest('hex')
        .slice(0, 16)}.json`,
    );
    const kept = readWeights(file);
    const weights = kept ?? (await fitInWorker(corpus));
    const engine = EnrichmentEngine.build(corpus, this.patterns, { weights });
    if (!kept) writeWeights(file, weights, this.log);
    const built: Built = {
      key,
      engine,
      info: {
        attack: versions,
        patterns_version: this.patterns.version,
        techniques: engine.size,
        built_at: new Date().toISOString(),
      },
    };
    this.current = built;
    this.log.info(
      { techniques: engine.size, ms: Date.now() - started, weights: kept ? 'kept' : 'fitted' },
      'enrichment model built',
    );
    return built;
  }
}

/** The combiner fitted in a worker thread (compiled code, as the Bree job runs). */
function fitInWorker(corpus: Corpus): Promise<number[]> {
  const script = path.join(packageRoot(), 'dist', 'src', 'enrichment', 'fit-worker.js');
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData: corpus });
    worker.once('message', (w: number[]) => resolve(w));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the enrichment fit worker exited with code ${code}`));
    });
  });
}

function readWeights(file: string): number[] | undefined {
  try {
    const w = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(w) && w.every((x) => typeof x === 'number') ? w : undefined;
  } catch {
    return undefined;
  }
}

function writeWeights(file: string, weights: number[], log: Logger): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(weights));
    renameSync(tmp, file);
  } catch (err) {
    // Only the next start-up is slower: the model itself is in memory.
    log.warn({ err: (err as Error).message, file }, 'could not keep the enrichment weights');
  }
}
