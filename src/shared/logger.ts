import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One structured logger per process. CLI commands log to stderr so stdout stays for their output
 * (tables, JSON documents that scripts read).
 */
export function createLogger(level: string, name = 'ttpgraph'): Logger {
  return pino({ name, level }, pino.destination(2));
}
