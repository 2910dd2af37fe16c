import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { LocalNeo4jConfig } from './config';
import { DatabaseUnavailableError } from './errors';
import { packageRoot } from './paths';

/**
 * The local Neo4j: Neo4j Community 5.26 embedded in a small Java main (neo4j/), built with Maven
 * and run from a plain classpath. Used by the CLI and the tests whenever NEO4J_URI is unset.
 */

const LAUNCHER_CLASS = 'dev.ttpgraph.neo4j.Launcher';
const READY = /^READY (bolt:\/\/\S+)$/m;

// The JVM flags Neo4j 5.26's own server start script passes, plus a bounded heap.
const JVM_FLAGS = [
  '-XX:+UseG1GC',
  '-XX:-OmitStackTraceInFastThrow',
  '-XX:+UnlockExperimentalVMOptions',
  '-XX:+TrustFinalNonStaticFields',
  '-XX:+DisableExplicitGC',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djdk.nio.maxCachedBufferSize=1024',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Dlog4j2.disable.jmx=true',
  '-Dfile.encoding=UTF-8',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
];

export interface LocalNeo4j {
  uri: string;
  pid: number;
  stop(): Promise<void>;
}

interface PidFile {
  pid: number;
  uri: string;
  startedAt: string;
  /** Which process runs it: absent for `ttpgraph db start`, else the pid of its owner (serve). */
  ownerPid?: number;
}

function launcherDir(): string {
  return path.join(packageRoot(), 'neo4j');
}

function launcherJar(): string {
  return path.join(launcherDir(), 'target', 'ttpgraph-neo4j-launcher-1.0.0.jar');
}

function javaBin(): string {
  const home = process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', 'java') : 'java';
}

/** Java 17 or 21 is what Neo4j 5.26 runs on; say so plainly when it is missing. */
export function checkJava(): string {
  const r = spawnSync(javaBin(), ['-version'], { encoding: 'utf8' });
  if (r.error) {
    throw new DatabaseUnavailableError(
      `Java was not found (${javaBin()}): install a Java 17 or 21 JDK (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME, or set NEO4J_URI to use an existing Neo4j`,
    );
  }
  const m = /version "(\d+)/.exec(r.stderr);
  const major = m ? Number(m[1]) : NaN;
  if (major !== 17 && major !== 21) {
    throw new DatabaseUnavailableError(
      `Neo4j 5.26 needs Java 17 or 21, found ${Number.isNaN(major) ? 'an unknown version' : major} at ${javaBin()}: set JAVA_HOME to a Java 17 or 21 JDK`,
    );
  }
  return `${major}`;
}

function launcherIsBuilt(): boolean {
  const jar = launcherJar();
  if (!existsSync(jar) || !existsSync(path.join(launcherDir(), 'target', 'lib'))) return false;
  const built = statSync(jar).mtimeMs;
  const sources = [
    path.join(launcherDir(), 'pom.xml'),
    path.join(launcherDir(), 'src/main/java/dev/ttpgraph/neo4j/Launcher.java'),
  ];
  return sources.every((s) => statSync(s).mtimeMs <= built);
}

/** Builds neo4j/ with Maven when its jar is missing or older than its sources. */
export function buildLauncher(
  opts: { force?: boolean; onOutput?: (line: string) => void } = {},
): void {
  if (!opts.force && launcherIsBuilt()) return;
  checkJava();
  opts.onOutput?.('building the local Neo4j launcher with Maven (first run downloads ~120 MB)');
  const r = spawnSync(
    'mvn',
    ['-B', '-q', '-f', path.join(launcherDir(), 'pom.xml'), 'package', '-DskipTests'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (r.error) {
    throw new DatabaseUnavailableError(
      'Maven (mvn) was not found: install it (e.g. apt-get install maven) to build the local Neo4j, or set NEO4J_URI to use an existing Neo4j',
    );
  }
  if (r.status !== 0) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-20).join('\n');
    throw new DatabaseUnavailableError(`building the local Neo4j launcher failed:\n${tail}`);
  }
}

/** Resolves when nothing listens on 127.0.0.1:port (port 0 always passes). */
export async function assertPortFree(port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new DatabaseUnavailableError(
          err.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is taken: stop what uses it, choose another with TTPGRAPH_NEO4J_PORT, or point NEO4J_URI at that server if it is a Neo4j`
            : `cannot bind 127.0.0.1:${port}: ${err.message}`,
        ),
      ),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

function javaArgs(cfg: LocalNeo4jConfig, watchStdin: boolean): string[] {
  const classpath = [launcherJar(), path.join(launcherDir(), 'target', 'lib', '*')].join(
    path.delimiter,
  );
  const args = [
    `-Xms256m`,
    `-Xmx${cfg.heap}`,
    ...JVM_FLAGS,
    '-cp',
    classpath,
    LAUNCHER_CLASS,
    '--home',
    cfg.home,
    '--port',
    String(cfg.port),
    '--page-cache',
    String(cfg.pageCacheMb),
  ];
  if (watchStdin) args.push('--watch-stdin');
  return args;
}

function childEnv(cfg: LocalNeo4jConfig): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TTPGRAPH_NEO4J_PASSWORD;
  if (cfg.password) env.TTPGRAPH_NEO4J_PASSWORD = cfg.password;
  return env;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Starts Neo4j as a child of this process. It stops when stop() is called or, since it watches
 * its stdin, when this process dies without calling it.
 */
export async function startLocalNeo4j(cfg: LocalNeo4jConfig): Promise<LocalNeo4j> {
  buildLauncher();
  await assertPortFree(cfg.port);
  mkdirSync(cfg.home, { recursive: true });
  const child = spawn(javaBin(), javaArgs(cfg, true), {
    env: childEnv(cfg),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const uri = await new Promise<string>((resolve, reject) => {
    const fail = (why: string) => {
      child.kill('SIGKILL');
      const tail = output.trim().split('\n').slice(-15).join('\n');
      reject(
        new DatabaseUnavailableError(
          `the local Neo4j did not start: ${why}${tail ? `\n${tail}` : ''}`,
        ),
      );
    };
    const timer = setTimeout(
      () => fail(`no READY line within ${cfg.startTimeoutMs} ms`),
      cfg.startTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const m = READY.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(err.message);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`the JVM exited (${signal ?? `code ${code}`})`);
    });
  });
  child.removeAllListeners('exit');
  // Keep draining output so a chatty JVM never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  // The same pid file as `db start`: commands run beside this process find and use this Neo4j.
  const info: PidFile = {
    pid: child.pid as number,
    uri,
    startedAt: new Date().toISOString(),
    ownerPid: process.pid,
  };
  writeFileSync(pidFilePath(cfg), JSON.stringify(info));
  return {
    uri,
    pid: child.pid as number,
    stop: async () => {
      rmSync(pidFilePath(cfg), { force: true });
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 60_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    },
  };
}

function pidFilePath(cfg: LocalNeo4jConfig): string {
  return path.join(cfg.home, 'neo4j.pid.json');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface DaemonStatus {
  running: boolean;
  pid?: number;
  uri?: string;
  startedAt?: string;
  /** The process whose Neo4j it is (`ttpgraph serve`), when not a `db start` daemon. */
  ownerPid?: number;
  home: string;
}

export function daemonStatus(cfg: LocalNeo4jConfig): DaemonStatus {
  const file = pidFilePath(cfg);
  if (!existsSync(file)) return { running: false, home: cfg.home };
  const info = JSON.parse(readFileSync(file, 'utf8')) as PidFile;
  if (!isAlive(info.pid)) {
    rmSync(file, { force: true });
    return { running: false, home: cfg.home };
  }
  return {
    running: true,
    pid: info.pid,
    uri: info.uri,
    startedAt: info.startedAt,
    ...(info.ownerPid !== undefined ? { ownerPid: info.ownerPid } : {}),
    home: cfg.home,
  };
}

/** `ttpgraph db start`: a detached Neo4j that outlives this process; its log is neo4j.out. */
export async function startDaemon(cfg: LocalNeo4jConfig): Promise<DaemonStatus> {
  const current = daemonStatus(cfg);
  if (current.running) return current;
  buildLauncher();
  await assertPortFree(cfg.port);
  mkdirSync(cfg.home, { recursive: true });
  const logFile = path.join(cfg.home, 'neo4j.out');
  const fd = openSync(logFile, 'w');
  const child = spawn(javaBin(), javaArgs(cfg, false), {
    env: childEnv(cfg),
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child.unref();
  const deadline = Date.now() + cfg.startTimeoutMs;
  while (Date.now() < deadline) {
    const out = readFileSync(logFile, 'utf8');
    const m = READY.exec(out);
    if (m?.[1]) {
      const info: PidFile = {
        pid: child.pid as number,
        uri: m[1],
        startedAt: new Date().toISOString(),
      };
      writeFileSync(pidFilePath(cfg), JSON.stringify(info));
      return { running: true, ...info, home: cfg.home };
    }
    if (child.exitCode !== null || !isAlive(child.pid as number)) {
      const tail = out.trim().split('\n').slice(-15).join('\n');
      throw new DatabaseUnavailableError(
        `the local Neo4j exited during start-up (log: ${logFile}):\n${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  process.kill(child.pid as number, 'SIGKILL');
  throw new DatabaseUnavailableError(
    `the local Neo4j did not start within ${cfg.startTimeoutMs} ms (log: ${logFile})`,
  );
}

export async function stopDaemon(cfg: LocalNeo4jConfig): Promise<boolean> {
  const st = daemonStatus(cfg);
  if (!st.running || st.pid === undefined) return false;
  if (st.ownerPid !== undefined) {
    throw new DatabaseUnavailableError(
      `this Neo4j belongs to the ttpgraph process ${st.ownerPid} (ttpgraph serve): stop that process instead`,
    );
  }
  process.kill(st.pid, 'SIGTERM');
  const deadline = Date.now() + 60_000;
  while (isAlive(st.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (isAlive(st.pid)) process.kill(st.pid, 'SIGKILL');
  rmSync(pidFilePath(cfg), { force: true });
  return true;
}
