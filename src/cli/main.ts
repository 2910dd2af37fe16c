#!/usr/bin/env node
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { fetchBundle } from '../attack/bundle-source';
import { CHANGE_CATEGORIES } from '../attack/diff';
import { ImportService, type ChangeReport } from '../attack/import-service';
import { MappingService } from '../mappings/mapping-service';
import { applySchema } from '../attack/schema';
import { StatusService, type Status } from '../attack/status-service';
import { ConfigError, loadConfig, type Config } from '../shared/config';
import { connect, type Connection } from '../shared/database';
import {
  AppError,
  DatabaseUnavailableError,
  InvalidBundleError,
  NotSupportedError,
  SourceError,
} from '../shared/errors';
import { buildLauncher, daemonStatus, startDaemon, stopDaemon } from '../shared/local-neo4j';
import { createLogger, type Logger } from '../shared/logger';
import { signDevelopmentToken, withDevelopmentSecret } from '../auth/identity';
import { API_BASE } from '../http/app';
import { startServer } from '../http/server';
import { progressReporter } from './progress';
import { table } from './table';

const EXIT = { failure: 1, usage: 2, invalidInput: 3, source: 4, database: 5 } as const;

class UsageError extends Error {}

/** The one place where a failure becomes a message and an exit code. */
function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof NotSupportedError)
    return EXIT.usage;
  if (err instanceof InvalidBundleError) return EXIT.invalidInput;
  if (err instanceof SourceError) return EXIT.source;
  if (err instanceof DatabaseUnavailableError) return EXIT.database;
  return EXIT.failure;
}

interface Context {
  config: Config;
  log: Logger;
}

function context(argv: { verbose?: boolean }): Context {
  const config = loadConfig();
  const log = createLogger(
    argv.verbose ? 'debug' : config.logLevel === 'info' ? 'warn' : config.logLevel,
  );
  return { config, log };
}

async function withGraph<T>(ctx: Context, work: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await connect(ctx.config, ctx.log);
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
    console.log('No ATT&CK data imported yet: run ttpgraph import-mitre --url <bundle>');
  else
    console.log(
      '\n' +
        table(
          ['domain', 'version', 'last import', 'last change', 'source'],
          s.domains.map((d) => [
            d.domain,
            d.version ?? '-',
            d.lastImportAt ?? '-',
            d.lastChangeAt ?? '-',
            d.source ?? '-',
          ]),
        ),
    );
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

async function importMitre(argv: {
  source: string;
  url?: string[];
  domain?: string;
  force: boolean;
  relationships: boolean;
  strict: boolean;
  json: boolean;
  verbose?: boolean;
}): Promise<void> {
  if (argv.source === 'taxii') {
    throw new NotSupportedError(
      '--source taxii is not supported yet: it arrives with the sync work; use --source json with --url',
    );
  }
  const ctx = context(argv);
  const urls = argv.url && argv.url.length > 0 ? argv.url : ctx.config.importUrls;
  if (urls.length === 0)
    throw new UsageError('no bundle given: pass --url URL|FILE or set TTPGRAPH_IMPORT_URLS');
  if (argv.domain && urls.length > 1)
    throw new UsageError('--domain applies to one bundle: pass a single --url');
  const progress = progressReporter();
  const reports = await withGraph(ctx, async ({ graph }) => {
    const mappings = new MappingService(graph);
    const importer = new ImportService(graph, ctx.log, ctx.config.importBatchSize, () =>
      mappings.applyRelease(),
    );
    const out: ChangeReport[] = [];
    for (const url of urls) {
      const fetched = await fetchBundle(url, {
        timeoutMs: ctx.config.fetchTimeoutMs,
        maxBytes: ctx.config.maxBundleBytes,
        onProgress: progress.update,
      });
      out.push(
        await importer.importBytes(fetched, {
          domain: argv.domain,
          force: argv.force,
          relationships: argv.relationships,
          strict: argv.strict,
          onProgress: progress.update,
        }),
      );
      progress.done();
    }
    return out;
  });
  if (argv.json) console.log(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2));
  else reports.forEach((r, i) => (i > 0 ? console.log('') : undefined, printReport(r)));
}

async function mitreStatus(argv: {
  detailed: boolean;
  json: boolean;
  verbose?: boolean;
}): Promise<void> {
  const ctx = context(argv);
  const status = await withGraph(ctx, ({ graph }) =>
    new StatusService(graph).status(argv.detailed),
  );
  if (argv.json) console.log(JSON.stringify(status, null, 2));
  else printStatus(status);
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
            ? `running: ${st.uri} (pid ${st.pid}, since ${st.startedAt}, data ${st.home})`
            : `not running (data ${st.home})`,
        );
      if (!st.running) process.exitCode = 1;
      return;
    }
  }
}

/**
 * `ttpgraph serve` (and `start`, which `npm start` runs): the API with Neo4j (NEO4J_URI or the local
 * one). `start` also imports TTPGRAPH_IMPORT_URLS in the background once the API listens.
 */
async function serve(argv: { verbose?: boolean; import?: boolean }): Promise<void> {
  const config = loadConfig();
  const log = createLogger(argv.verbose ? 'debug' : config.logLevel);
  const server = await startServer(config, log);
  console.error(
    `ttpgraph API at ${server.url}${API_BASE}/ (docs: ${server.url}${API_BASE}/docs/); Ctrl-C stops`,
  );
  if (argv.import) {
    void (async () => {
      for (const url of config.importUrls) {
        try {
          const fetched = await fetchBundle(url, {
            timeoutMs: config.fetchTimeoutMs,
            maxBytes: config.maxBundleBytes,
          });
          const r = await server.importer.importBytes(fetched);
          log.info(
            { url, domain: r.domain, version: r.version, changed: r.changed, totals: r.totals },
            'bundle imported',
          );
        } catch (err) {
          // A bad source must not take the service down: the graph keeps what it had.
          log.error({ url, err: (err as Error).message }, 'import failed; previous data kept');
        }
      }
    })();
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info('shutting down: finishing in-flight requests');
  await server.close();
}

async function token(argv: {
  sub: string;
  tenant: string[];
  role: string[];
  superuser: boolean;
  ttl: string;
}): Promise<void> {
  const config = loadConfig();
  const m = /^(\d+)([smhd])$/.exec(argv.ttl);
  if (!m) throw new UsageError('--ttl takes a number and a unit: 30m, 1h, 7d');
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  console.log(
    await signDevelopmentToken(
      withDevelopmentSecret(config.auth, config.dataDir).auth,
      { sub: argv.sub, tenants: argv.tenant, roles: argv.role, superuser: argv.superuser },
      seconds,
    ),
  );
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
          .option('source', {
            choices: ['json', 'taxii'] as const,
            default: 'json',
            describe: 'Where bundles come from (taxii: not supported yet)',
          })
          .option('url', {
            type: 'string',
            array: true,
            describe:
              'Bundle URL (http, https, file:) or path; repeatable. Default: TTPGRAPH_IMPORT_URLS',
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
              'Reject the whole bundle when any object is invalid (default: skip and report them)',
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
          .option('json', { type: 'boolean', default: false, describe: 'status as JSON' }),
      (argv) => db(argv as never),
    )
    .command(
      'serve',
      'Run the REST API (Neo4j from NEO4J_URI, else the local one)',
      (y) => verbose(y),
      (argv) => serve(argv),
    )
    .command(
      'start',
      'What npm start runs: the REST API, plus an import of TTPGRAPH_IMPORT_URLS in the background',
      (y) => verbose(y),
      (argv) => serve({ ...argv, import: true }),
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
            describe: 'Role: admin, analyst, viewer (repeatable)',
          })
          .option('superuser', {
            type: 'boolean',
            default: false,
            describe: 'Superuser: every tenant, imports and syncs',
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
        'Exit codes: 0 ok, 1 unexpected failure, 2 usage or configuration, 3 invalid bundle, 4 source unreachable, 5 database unavailable.',
      ].join('\n'),
    )
    .help()
    .wrap(Math.min(120, process.stdout.columns ?? 100));
}

async function main(): Promise<void> {
  try {
    await cli(hideBin(process.argv))
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      })
      .parseAsync();
  } catch (err) {
    const message =
      err instanceof AppError || err instanceof UsageError || err instanceof ConfigError
        ? err.message
        : String((err as Error)?.stack ?? err);
    console.error(`ttpgraph: ${message}`);
    process.exitCode = exitCodeFor(err);
  }
}

if (require.main === module) void main();
