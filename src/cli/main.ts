#!/usr/bin/env node
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CHANGE_CATEGORIES, CHANGELOG_CATEGORIES } from '../attack/diff';
import type { ChangeReport } from '../attack/import-service';
import { applySchema } from '../attack/schema';
import { StatusService, type Status } from '../attack/status-service';
import { ConfigError, loadConfig, type Config } from '../shared/config';
import { connect, type Connection } from '../shared/database';
import {
  AppError,
  ConflictError,
  DatabaseUnavailableError,
  InvalidBundleError,
  NotFoundError,
  NotSupportedError,
  OlderReleaseError,
  PayloadTooLargeError,
  SourceError,
} from '../shared/errors';
import { buildLauncher, daemonStatus, startDaemon, stopDaemon } from '../shared/local-neo4j';
import { createLogger, type Logger } from '../shared/logger';
import { createAuthorizer } from '../auth/authorization';
import { signDevelopmentToken, withDevelopmentSecret } from '../auth/identity';
import { API_BASE } from '../http/app';
import { startServer } from '../http/server';
import { SyncService, type SyncRun } from '../sync/sync-service';
import { progressReporter } from './progress';
import {
  BackupService,
  type BackupCounts,
  type BackupProgress,
} from '../operations/backup-service';
import { table } from './table';
import { toWire } from '../shared/wire';
import type { EnrichItem } from '../enrichment/engine';
import { EnrichmentService } from '../enrichment/enrichment-service';
import { NextSteps } from '../reporting/next-steps';
import { renderHtml, renderMarkdown } from '../reporting/report';
import { ReportingService, wireSuggestion } from '../reporting/reporting-service';

const EXIT = {
  failure: 1,
  usage: 2,
  invalidInput: 3,
  source: 4,
  database: 5,
  busy: 6,
  notFound: 7,
} as const;

class UsageError extends Error {}

/** The one place where a failure becomes a message and an exit code. */
function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof NotSupportedError)
    return EXIT.usage;
  if (
    err instanceof InvalidBundleError ||
    err instanceof PayloadTooLargeError ||
    err instanceof OlderReleaseError
  )
    return EXIT.invalidInput;
  if (err instanceof SourceError) return EXIT.source;
  if (err instanceof DatabaseUnavailableError) return EXIT.database;
  if (err instanceof ConflictError) return EXIT.busy;
  if (err instanceof NotFoundError) return EXIT.notFound;
  return EXIT.failure;
}

interface Context {
  config: Config;
  log: Logger;
}

function context(argv: { verbose?: boolean }): Context {
  const config = loadConfig();
  const log = createLogger(argv.verbose ? 'debug' : (config.logLevel ?? 'silent'));
  return { config, log };
}

async function withGraph<T>(
  ctx: Context,
  work: (conn: Connection) => Promise<T>,
  opts: { startLocal: boolean } = { startLocal: true },
): Promise<T> {
  const conn = await connect(ctx.config, ctx.log, undefined, opts);
  try {
    await applySchema(conn.graph);
    return await work(conn);
  } finally {
    await conn.close();
  }
}

function printReport(r: ChangeReport): void {
  const verdict = r.changed ? 'applied' : 'unchanged, nothing written';
  console.log(
    `${r.domain} ${r.version} (${r.bundleId}) from ${r.source}: ${verdict} in ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `sha256 ${r.sha256}${r.force ? ', forced rewrite' : ''}${r.relationships ? '' : ', relationships skipped'}`,
  );
  const types = Object.keys(r.byType).sort();
  const rows = types.map((t) => [t, ...CHANGE_CATEGORIES.map((c) => r.byType[t]?.[c] ?? 0)]);
  rows.push(['total', ...CHANGE_CATEGORIES.map((c) => r.totals[c])]);
  console.log(table(['type', ...CHANGE_CATEGORIES], rows));
  if (r.skipped > 0 || r.warnings > 0) {
    console.log(`\n${r.skipped} invalid object(s) skipped, ${r.warnings} warning(s):`);
    for (const i of r.issues.slice(0, 15))
      console.log(`  ${i.severity} ${i.object} ${i.path}: ${i.message}`);
    if (r.issues.length > 15)
      console.log(
        `  ... ${r.skipped + r.warnings - 15} more (--json lists up to ${r.issues.length})`,
      );
  }
}

function printStatus(s: Status): void {
  console.log(`Neo4j ${s.database.uri} (database ${s.database.name}): reachable`);
  if (s.domains.length === 0)
    console.log(
      'No ATT&CK data imported yet: run ttpgraph sync, or ttpgraph import-mitre --url <bundle>',
    );
  else
    console.log(
      '\n' +
        table(
          [
            'domain',
            'version',
            'release',
            'last change',
            'last sync attempt',
            'last success',
            'last error',
          ],
          s.domains.map((d) => [
            d.domain,
            d.version ?? '-',
            d.releaseId ?? '-',
            d.lastChangeAt ?? '-',
            d.lastAttemptAt ?? '-',
            d.lastSuccessAt ?? '-',
            d.lastError ?? '-',
          ]),
        ),
    );
  console.log(
    `\nsync: ${s.sync.running ? `running now (${s.sync.holder})` : 'idle'}; schedule ${s.sync.schedule ?? 'not running in any service'}; next run ${s.sync.nextRunAt ?? '-'}`,
  );
  for (const d of s.domains.filter((x) => x.lastChangelog)) {
    const totals = Object.entries(d.lastChangelog ?? {}).filter(([, n]) => n > 0);
    console.log(
      `${d.domain} last changelog: ${totals.map(([c, n]) => `${n} ${c}`).join(', ') || 'no changes'}`,
    );
  }
  if (s.objects.length > 0) {
    console.log(
      '\n' +
        table(
          ['type', 'total', 'active', 'revoked', 'deprecated'],
          s.objects.map((o) => [o.type, o.total, o.active, o.revoked, o.deprecated]),
        ),
    );
  }
  const rels = Object.entries(s.relationships);
  if (rels.length > 0) console.log('\n' + table(['relationship', 'count'], rels));
  const derived = Object.entries(s.derivedEdges);
  if (derived.length > 0) console.log('\n' + table(['derived edge', 'count'], derived));
  if (!s.detailed) return;
  let domain = '';
  for (const t of s.detailed.tactics) {
    if (t.domain !== domain) {
      domain = t.domain;
      const rows = s.detailed.tactics
        .filter((x) => x.domain === domain)
        .map((x) => [x.position + 1, x.tacticId, x.tactic, x.techniques, x.subtechniques]);
      console.log(
        `\n${domain}: techniques per tactic in kill-chain order\n` +
          table(['#', 'id', 'tactic', 'techniques', 'sub-techniques'], rows),
      );
    }
  }
  console.log(
    '\n' +
      table(
        ['index', 'type', 'state', 'populated %', 'on'],
        s.detailed.indexes.map((i) => [
          String(i.name),
          String(i.type),
          String(i.state),
          Number(i.populationPercent),
          `${(i.labelsOrTypes as string[] | null)?.join(',') ?? ''}(${(i.properties as string[] | null)?.join(',') ?? ''})`,
        ]),
      ),
  );
  console.log(
    '\n' +
      table(
        ['constraint', 'type', 'on'],
        s.detailed.constraints.map((c) => [
          String(c.name),
          String(c.type),
          `${(c.labelsOrTypes as string[]).join(',')}(${(c.properties as string[]).join(',')})`,
        ]),
      ),
  );
  for (const report of Object.values(s.detailed.lastReports)) {
    console.log('\nLast import:');
    printReport(report);
  }
}

/** import-mitre and sync: the sync pipeline run once in this process, under the same lease. */
async function runSync(
  argv: {
    source: 'json' | 'taxii';
    url?: string[];
    domain?: string;
    force: boolean;
    relationships?: boolean;
    strict?: boolean;
    downgradeTo?: string;
    verbose?: boolean;
  },
  conditional: boolean,
): Promise<SyncRun> {
  const ctx = context(argv);
  if (argv.domain && (argv.url?.length ?? 0) > 1)
    throw new UsageError('--domain applies to one bundle: pass a single --url');
  const taxii = argv.source === 'taxii';
  if (taxii && (argv.url?.length ?? 0) > 1)
    throw new UsageError('--source taxii reads one server: pass a single --url');
  if (argv.downgradeTo && !argv.force)
    throw new UsageError('--downgrade-to goes back to an older release: it needs --force too');
  const progress = progressReporter();
  return withGraph(ctx, async ({ graph }) => {
    return SyncService.forGraph(graph, ctx.config, ctx.log).runOrThrow({
      trigger: 'cli',
      source: argv.source,
      urls: taxii ? undefined : argv.url,
      taxiiUrl: taxii ? argv.url?.[0] : undefined,
      domain: argv.domain,
      force: argv.force,
      downgradeTo: argv.downgradeTo,
      conditional,
      relationships: argv.relationships,
      strict: argv.strict,
      onProgress: (p) => (p.phase === 'finished' ? progress.done() : progress.update(p)),
    });
  });
}

async function importMitre(argv: {
  source: 'json' | 'taxii';
  url?: string[];
  domain?: string;
  force: boolean;
  downgradeTo?: string;
  relationships: boolean;
  strict: boolean;
  json: boolean;
  verbose?: boolean;
}): Promise<void> {
  // Bundles named on the command line are always read; the configured source only when changed.
  const run = await runSync(argv, !(argv.url && argv.url.length > 0));
  if (argv.json) {
    console.log(
      JSON.stringify(toWire(run.reports.length === 1 ? run.reports[0] : run.reports), null, 2),
    );
  } else {
    run.reports.forEach((r, i) => (i > 0 ? console.log('') : undefined, printReport(r)));
  }
  for (const d of run.domains.filter((x) => x.outcome === 'unchanged')) {
    console.error(`${d.domain ?? d.source}: the source has not changed since the last sync`);
  }
}

async function sync(argv: {
  source: 'json' | 'taxii';
  force: boolean;
  json: boolean;
  verbose?: boolean;
}): Promise<void> {
  const run = await runSync(argv, true);
  if (argv.json) {
    console.log(JSON.stringify(toWire(run), null, 2));
    return;
  }
  console.log(
    `sync ${run.id} (${run.source}): ${run.state} in ${((run.duration_ms ?? 0) / 1000).toFixed(1)} s, ${run.requests} request(s) to the source`,
  );
  console.log(
    table(
      ['domain', 'outcome', 'version', 'release', ...CHANGELOG_CATEGORIES],
      run.domains.map((d) => [
        d.domain ?? d.source,
        d.outcome,
        d.version ?? '-',
        d.releaseId ?? '-',
        ...CHANGELOG_CATEGORIES.map((c) => d.totals?.[c] ?? '-'),
      ]),
    ),
  );
}

/** A JSON-lines input (a file, or - for stdin); a missing file is a usage error before anything starts. */
async function openLines(name: string): Promise<NodeJS.ReadableStream> {
  const input = name === '-' ? process.stdin : createReadStream(name);
  await new Promise<void>((resolve, reject) => {
    if (input === process.stdin) return resolve();
    input.once('open', () => resolve());
    input.once('error', (err: Error) =>
      reject(new UsageError(`cannot read ${name}: ${err.message}`)),
    );
  });
  return input;
}

/** The --input of a JSON-lines command: one value taken as given ("-", stdin, is not a flag). */
function linesOption(describe: string) {
  return { type: 'string', nargs: 1, demandOption: true, describe } as const;
}

/** One line to stdout, waiting when the pipe is full: memory stays flat however long the input. */
async function writeLine(line: string): Promise<void> {
  if (outputClosed) throw outputClosed;
  if (!process.stdout.write(`${line}\n`)) await once(process.stdout, 'drain');
}

/**
 * Set when stdout's reader went away (`… | head`): the reader has what it wanted, so the command
 * stops writing and ends quietly instead of failing with a stack trace.
 */
let outputClosed: NodeJS.ErrnoException | null = null;

function isClosedOutput(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/**
 * Each non-empty line of a JSON-lines input as an object, in order, handed to `answer`; a line
 * that is not a JSON object gets an error line of its own. Returns how many lines were invalid.
 */
async function eachJsonLine(
  input: NodeJS.ReadableStream,
  answer: (item: Record<string, unknown>, line: number) => Promise<void>,
): Promise<number> {
  let n = 0;
  let invalid = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    if (line.trim() === '') continue;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch {
      item = undefined;
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      invalid++;
      await writeLine(JSON.stringify({ line: n, error: 'not a JSON object' }));
      continue;
    }
    await answer(item as Record<string, unknown>, n);
  }
  return invalid;
}

function reportInvalidLines(bad: number): void {
  if (bad === 0) return;
  process.exitCode = EXIT.invalidInput;
  console.error(
    `ttpgraph: ${bad} input line(s) were not JSON objects (answered with an error line)`,
  );
}

/** A command that answers each line of a JSON-lines input from what `prepare` reads once. */
async function answerLines(
  argv: { input: string; verbose?: boolean },
  prepare: (
    graph: Connection['graph'],
    ctx: Context,
  ) => Promise<(item: Record<string, unknown>, line: number) => Promise<void>>,
): Promise<void> {
  const ctx = context(argv);
  const input = await openLines(argv.input);
  const bad = await withGraph(ctx, async ({ graph }) =>
    eachJsonLine(input, await prepare(graph, ctx)),
  );
  reportInvalidLines(bad);
}

/**
 * Streams a JSON-lines file (or stdin) through the enrichment engine, one answer per line, in
 * order. A line that is not a JSON object gets an error line, and the exit code says so.
 */
async function enrich(argv: {
  input: string;
  topK: number;
  minConfidence: number;
  json: boolean;
  verbose?: boolean;
}): Promise<void> {
  await answerLines(argv, async (graph, ctx) => {
    const service = new EnrichmentService(
      graph,
      ctx.log,
      path.join(ctx.config.dataDir, 'enrichment'),
    );
    const { engine } = await service.engine();
    return async (item, n) => {
      const e = item as EnrichItem;
      const techniques = engine.enrich(e, { topK: argv.topK, minConfidence: argv.minConfidence });
      const id = e.id ?? null;
      if (argv.json) await writeLine(JSON.stringify({ id, techniques }));
      else {
        const best = techniques.map((t) => `${t.technique} ${t.name} (${t.confidence})`);
        await writeLine(
          `${id ?? `line ${n}`}: ${best.join('; ') || 'no technique above the threshold'}`,
        );
      }
    };
  });
}

/**
 * Next steps for each line's observed techniques: the model and every technique id are read from
 * the graph once, then lines are answered as they come (ATT&CK only: no tenant's history).
 */
async function nextSteps(argv: {
  input: string;
  topK: number;
  json: boolean;
  verbose?: boolean;
}): Promise<void> {
  await answerLines(argv, async (graph, ctx) => {
    const model = new NextSteps(graph, ctx.log);
    const snapshot = await model.snapshot();
    const resolve = await model.resolver();
    return async (item, n) => {
      const id = item.id ?? null;
      const given = item.techniques;
      if (!Array.isArray(given) || !given.every((t) => typeof t === 'string')) {
        await writeLine(JSON.stringify({ id, line: n, error: 'techniques must be a list of ids' }));
        return;
      }
      const r = resolve(given as string[]);
      const answer = snapshot.suggest(r.observed, argv.topK);
      const suggestions = answer.suggestions.map(wireSuggestion);
      if (argv.json)
        await writeLine(
          JSON.stringify({
            id,
            granularity: answer.level.granularity,
            replaced: r.replaced,
            unknown: r.unknown,
            suggestions,
          }),
        );
      else {
        const best = suggestions.map((s) => `${s.technique} ${s.name} (${s.score})`);
        await writeLine(`${String(id ?? `line ${n}`)}: ${best.join('; ') || 'nothing to suggest'}`);
      }
    };
  });
}

/** An incident's report, as the API gives it, in one format. */
async function report(argv: {
  incident: string;
  tenant: string;
  format: 'json' | 'markdown' | 'html' | 'navigator';
  verbose?: boolean;
}): Promise<void> {
  const ctx = context(argv);
  const out = await withGraph(ctx, async ({ graph }) => {
    const service = new ReportingService(graph, new NextSteps(graph, ctx.log));
    // The CLI has the database itself: it reads as an operator, restricted entities included.
    const operator = { tenant: argv.tenant, userId: 'cli', groups: [], superuser: true };
    if (argv.format === 'navigator')
      return JSON.stringify(await service.incidentLayer(operator, argv.incident), null, 2);
    const r = await service.report(operator, argv.incident, new Date().toISOString());
    if (argv.format === 'markdown') return renderMarkdown(r);
    if (argv.format === 'html') return renderHtml(r);
    return JSON.stringify(r, null, 2);
  });
  process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
}

async function mitreStatus(argv: {
  detailed: boolean;
  json: boolean;
  verbose?: boolean;
}): Promise<void> {
  const ctx = context(argv);
  // A status reports what is: it never boots a Neo4j of its own to answer.
  const status = await withGraph(
    ctx,
    ({ graph }) => new StatusService(graph).status(argv.detailed),
    { startLocal: false },
  );
  if (argv.json) console.log(JSON.stringify(toWire(status), null, 2));
  else printStatus(status);
}

function printCounts(verb: string, file: string, c: BackupCounts, seconds: number): void {
  console.log(
    `${verb} ${file}: ${c.tenants} tenant(s), ${c.entities} entities, ${c.mappings} mappings, ${c.events} audit events in ${seconds.toFixed(1)} s`,
  );
}

/** `backup` and `restore`: the work on the graph with a progress bar, then what it counted. */
async function backupCommand(
  argv: { json: boolean; verbose?: boolean },
  file: string,
  verb: string,
  work: (backups: BackupService, progress: BackupProgress) => Promise<BackupCounts>,
): Promise<void> {
  const ctx = context(argv);
  const bar = progressReporter();
  const started = performance.now();
  const counts = await withGraph(ctx, ({ graph }) =>
    work(new BackupService(graph), (phase, done, total) => bar.update({ phase, done, total })),
  );
  bar.done();
  if (argv.json) console.log(JSON.stringify({ file, ...counts }));
  else printCounts(verb, file, counts, (performance.now() - started) / 1000);
}

async function db(argv: { action: string; json?: boolean; verbose?: boolean }): Promise<void> {
  const ctx = context(argv);
  const local = ctx.config.localNeo4j;
  switch (argv.action) {
    case 'build':
      buildLauncher({ force: true, onOutput: (l) => console.error(l) });
      console.log('local Neo4j launcher built');
      return;
    case 'start': {
      const st = await startDaemon(local);
      console.log(st.uri);
      console.error(`local Neo4j running (pid ${st.pid}, data ${st.home})`);
      return;
    }
    case 'stop':
      console.log(
        (await stopDaemon(local)) ? 'local Neo4j stopped' : 'local Neo4j was not running',
      );
      return;
    case 'status': {
      const st = daemonStatus(local);
      if (argv.json) console.log(JSON.stringify(st));
      else
        console.log(
          st.running
            ? `running: ${st.uri} (pid ${st.pid}, since ${st.startedAt}, data ${st.home})${st.ownerPid !== undefined ? `, started by ttpgraph serve (pid ${st.ownerPid})` : ''}`
            : `not running (data ${st.home})`,
        );
      if (!st.running) process.exitCode = 1;
      return;
    }
  }
}

/**
 * `ttpgraph serve` (alias `start`, which `npm start` runs): the API with Neo4j (NEO4J_URI or the
 * local one) and the Bree sync scheduler, which syncs at start-up and every TTPGRAPH_SYNC_INTERVAL.
 */
async function serve(argv: { verbose?: boolean; port?: number }): Promise<void> {
  const config = loadConfig(
    argv.port === undefined ? process.env : { ...process.env, HTTP_PORT: String(argv.port) },
  );
  const log = createLogger(argv.verbose ? 'debug' : (config.logLevel ?? 'info'));
  const server = await startServer(config, log);
  console.error(
    `ttpgraph API at ${server.url}${API_BASE}/ (docs: ${server.url}${API_BASE}/docs/); Ctrl-C stops`,
  );
  // A promise nobody handled is a bug: logged, then the service shuts down cleanly (exit 1) rather
  // than going on in an unknown state or dying mid-request.
  let failed = false;
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    process.on('unhandledRejection', (err) => {
      log.fatal({ err: err instanceof Error ? err.stack : String(err) }, 'unhandled rejection');
      failed = true;
      resolve();
    });
  });
  log.info('shutting down: finishing in-flight requests');
  await server.close();
  if (failed) process.exitCode = 1;
}

async function token(argv: {
  sub: string;
  tenant: string[];
  role: string[];
  superuser: boolean;
  group: string[];
  ttl: string;
}): Promise<void> {
  const config = loadConfig();
  const m = /^(\d+)([smhd])$/.exec(argv.ttl);
  if (!m) throw new UsageError('--ttl takes a number and a unit: 30m, 1h, 7d');
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (seconds * 1000 > config.auth.maxLifetimeMs) {
    throw new UsageError(
      `--ttl ${argv.ttl} is longer than JWT_MAX_LIFETIME (${config.auth.maxLifetimeMs / 1000} s): the service would refuse the token`,
    );
  }
  const { tokenRoles } = await createAuthorizer();
  const unknown = argv.role.filter((r) => !tokenRoles.has(r));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown role ${unknown.join(', ')}: the policy defines ${[...tokenRoles].join(', ')} (a superuser is --superuser)`,
    );
  }
  console.log(
    await signDevelopmentToken(
      withDevelopmentSecret(config.auth, config.dataDir).auth,
      {
        sub: argv.sub,
        tenants: argv.tenant,
        roles: argv.role,
        superuser: argv.superuser,
        groups: argv.group,
      },
      seconds,
    ),
  );
}

const sourceOption = {
  choices: ['json', 'taxii'] as const,
  default: loadConfigSafe()?.sync.source ?? 'json',
  describe:
    'json: STIX bundles (MITRE index.json, or --url / TTPGRAPH_IMPORT_URLS); taxii: the TAXII 2.1 server at TTPGRAPH_TAXII_URL',
};

/** Help must render even with a bad environment: the error then comes from the command. */
function loadConfigSafe(): Config | undefined {
  try {
    return loadConfig();
  } catch {
    return undefined;
  }
}

const verbose = (y: Argv) =>
  y.option('verbose', { alias: 'v', type: 'boolean', describe: 'Debug logs on stderr' });

export function cli(args: string[]): Argv {
  return yargs(args)
    .scriptName('ttpgraph')
    .usage('$0 <command> [options]')
    .command(
      'import-mitre',
      'Import an ATT&CK STIX 2.1 bundle (file or URL, JSON or gzip) into the graph',
      (y) =>
        verbose(y)
          .option('source', sourceOption)
          .option('url', {
            type: 'string',
            array: true,
            describe:
              "Bundle URL (http, https, file:), file or directory; repeatable. Default: TTPGRAPH_IMPORT_URLS, else MITRE's index.json. With --source taxii: the TAXII 2.1 API root or discovery URL (default TTPGRAPH_TAXII_URL)",
          })
          .option('domain', {
            type: 'string',
            describe:
              'ATT&CK domain of the bundle (enterprise-attack, mobile-attack, ics-attack); default: read from its matrix',
          })
          .option('force', {
            type: 'boolean',
            default: false,
            describe: 'Rewrite every object even when unchanged',
          })
          .option('downgrade-to', {
            type: 'string',
            describe:
              'With --force: apply this older version in place of the newer one the domain holds (refused otherwise; logged)',
          })
          .option('relationships', {
            type: 'boolean',
            default: true,
            describe:
              'Import relationship objects (--no-relationships skips them and leaves existing edges as they are)',
          })
          .option('strict', {
            type: 'boolean',
            default: false,
            describe:
              'Reject the whole bundle when any object is invalid (default: skip and report them; more than 1,000 refuse it either way)',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'Print the change report as JSON',
          })
          .example(
            '$0 import-mitre --url ./enterprise-attack-18.1.json.gz',
            'import a local bundle',
          )
          .example(
            '$0 import-mitre --url https://example.org/enterprise-attack.json --json',
            'import from a URL, JSON report',
          ),
      (argv) => importMitre(argv as never),
    )
    .command(
      'enrich',
      'Suggest ATT&CK techniques for each line of a JSON-lines file (the enrichment engine)',
      (y) =>
        verbose(y)
          .option(
            'input',
            linesOption(
              'JSON lines, one item each: {"id", "text"} and optionally command_line, tags, observable_type, observable_value, title, description, process_name, file_path, registry_path, url; - reads stdin',
            ),
          )
          .option('top-k', { type: 'number', default: 5, describe: 'Techniques per item' })
          .option('min-confidence', {
            type: 'number',
            default: 0.2,
            describe: 'Leave out suggestions below this confidence (0 to 1)',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'One JSON line per item: {"id", "techniques": [...]}, best first',
          })
          .example('$0 enrich --input alerts.jsonl --json', 'one JSON answer per input line'),
      (argv) => enrich(argv as never),
    )
    .command(
      'next-steps',
      'Suggest the techniques likely to come next for each line of a JSON-lines file',
      (y) =>
        verbose(y)
          .option(
            'input',
            linesOption(
              'JSON lines, one each: {"id", "techniques": ["T1566.001", ...]}; - reads stdin',
            ),
          )
          .option('top-k', { type: 'number', default: 50, describe: 'Suggestions per line' })
          .option('json', {
            type: 'boolean',
            default: false,
            describe:
              'One JSON line per input: {"id", "granularity", "suggestions": [...]}, best first',
          })
          .example(
            '$0 next-steps --input seen.jsonl --top-k 20 --json',
            'one JSON answer per line',
          ),
      (argv) => nextSteps(argv as never),
    )
    .command(
      'report',
      "Print an incident's ATT&CK report (JSON, markdown, printable HTML or a Navigator layer)",
      (y) =>
        verbose(y)
          .option('incident', { type: 'string', demandOption: true, describe: 'The incident id' })
          .option('tenant', { type: 'string', demandOption: true, describe: 'Its tenant' })
          .option('format', {
            choices: ['json', 'markdown', 'html', 'navigator'] as const,
            default: 'json' as const,
            describe: 'navigator: an ATT&CK Navigator layer (format 4.5)',
          })
          .example(
            '$0 report --incident INC-1 --tenant acme --format html > inc-1.html',
            'a printable report',
          ),
      (argv) => report(argv as never),
    )
    .command(
      'mitre-status',
      'Show what the graph holds: versions, last imports, counts by type and relationship',
      (y) =>
        verbose(y)
          .option('detailed', {
            type: 'boolean',
            default: false,
            describe:
              'Add techniques per tactic, index and constraint state, and the last change report',
          })
          .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document' }),
      (argv) => mitreStatus(argv),
    )
    .command(
      'db <action>',
      'Manage the local Neo4j (used when NEO4J_URI is unset)',
      (y) =>
        verbose(y)
          .positional('action', {
            choices: ['start', 'stop', 'status', 'build'] as const,
            describe:
              'start: run it in the background; stop; status; build: (re)build the launcher with Maven',
          })
          .option('json', { type: 'boolean', default: false, describe: 'status as JSON' })
          .epilogue(
            'Environment: TTPGRAPH_DATA_DIR (data in <dir>/neo4j, default .data), TTPGRAPH_NEO4J_PORT (Bolt, default 7687), TTPGRAPH_NEO4J_HEAP, TTPGRAPH_NEO4J_PAGE_CACHE_MB, TTPGRAPH_NEO4J_PASSWORD, JAVA_HOME. A running `ttpgraph serve` shares its Neo4j: status shows it, commands use it.',
          ),
      (argv) => db(argv as never),
    )
    .command(
      'backup',
      "Write every tenant's entities, mappings, access settings and audit events to a JSON-lines file",
      (y) =>
        verbose(y)
          .option('out', { type: 'string', demandOption: true, describe: 'The backup file' })
          .option('json', { type: 'boolean', default: false, describe: 'Print the counts as JSON' })
          .epilogue(
            'ATT&CK is not in a backup: import it again before a restore. Writes of tenant data wait while the backup reads (it is one consistent state).',
          ),
      (argv) =>
        backupCommand(argv, argv.out, 'backed up to', (b, progress) =>
          b.backup(argv.out, progress),
        ),
    )
    .command(
      'restore <file>',
      'Load a backup into a database that holds ATT&CK and no tenant data',
      (y) =>
        verbose(y)
          .positional('file', { type: 'string', demandOption: true, describe: 'A ttpgraph backup' })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'Print the counts as JSON',
          }),
      (argv) =>
        backupCommand(argv, argv.file as string, 'restored from', (b, progress) =>
          b.restore(argv.file as string, progress),
        ),
    )
    .command(
      'sync',
      'Bring ATT&CK up to date from the configured source now (what the scheduler runs every interval)',
      (y) =>
        verbose(y)
          .option('source', sourceOption)
          .option('force', {
            type: 'boolean',
            default: false,
            describe: 'Download and rewrite even when the source says nothing changed',
          })
          .option('json', { type: 'boolean', default: false, describe: 'Print the run as JSON' }),
      (argv) => sync(argv as never),
    )
    .command(
      ['serve', 'start'],
      'Run the REST API and the sync scheduler (Neo4j from NEO4J_URI, else the local one); npm start runs this',
      (y) =>
        verbose(y)
          .option('port', {
            type: 'number',
            describe: 'HTTP port (default HTTP_PORT, else 8000)',
          })
          .epilogue(
            'Environment: HTTP_HOST / HTTP_PORT (127.0.0.1:8000), NEO4J_URI (else the local Neo4j on TTPGRAPH_NEO4J_PORT, 7687), TTPGRAPH_IMPORT_URLS (bundle files or a directory to sync from offline), TTPGRAPH_SYNC_INTERVAL (10m), JWT_SECRET / JWT_JWKS_URL; every variable in README.md and .env.example.',
          ),
      (argv) => serve(argv),
    )
    .command(
      'token',
      'Print a development JWT signed with JWT_SECRET',
      (y) =>
        y
          .option('sub', { type: 'string', demandOption: true, describe: 'User id' })
          .option('tenant', {
            type: 'string',
            array: true,
            default: [] as string[],
            describe: 'Tenant (repeatable)',
          })
          .option('role', {
            type: 'string',
            array: true,
            default: [] as string[],
            describe: 'Role the policy defines: admin, analyst, viewer (repeatable)',
          })
          .option('superuser', {
            type: 'boolean',
            default: false,
            describe: 'Superuser: every tenant, imports and syncs',
          })
          .option('group', {
            type: 'string',
            array: true,
            default: [] as string[],
            describe:
              'A team the user is in (repeatable): restricted entities name the groups that see them',
          })
          .option('ttl', { type: 'string', default: '1h', describe: 'Lifetime: 30m, 1h, 7d' })
          .example(
            '$0 token --sub alice --tenant acme --role analyst',
            'an analyst of tenant acme',
          ),
      (argv) => token(argv as never),
    )
    .demandCommand(1, 'Name a command: see --help')
    .strict()
    .epilogue(
      [
        'Neo4j: NEO4J_URI (+ NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE) selects an existing server or cluster;',
        'without it the local Neo4j is used (`ttpgraph db start`, or started for the command). See README.md.',
        'Exit codes: 0 ok, 1 unexpected failure, 2 usage or configuration, 3 invalid bundle, 4 source unreachable,',
        '5 database unavailable, 6 another sync is applying a release (try again when it ends), 7 not found.',
      ].join('\n'),
    )
    .help()
    .wrap(Math.min(120, process.stdout.columns ?? 100));
}

async function main(): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!isClosedOutput(err)) throw err;
    outputClosed = err;
  });
  try {
    await cli(hideBin(process.argv))
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      })
      .parseAsync();
  } catch (err) {
    if (isClosedOutput(err)) return;
    const message =
      err instanceof AppError || err instanceof UsageError || err instanceof ConfigError
        ? err.message
        : String((err as Error)?.stack ?? err);
    process.exitCode = exitCodeFor(err);
    // Asked for JSON, a failure is JSON too (on stdout, where the answer would have been).
    if (process.argv.includes('--json'))
      console.log(JSON.stringify({ error: message, exit_code: process.exitCode }));
    else console.error(`ttpgraph: ${message}`);
  }
}

if (require.main === module) void main();
