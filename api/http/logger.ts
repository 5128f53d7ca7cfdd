// Structured logs (pino), secrets redacted by path: the Authorization header, tokens,
// kubeconfigs and secret values never reach a log line even if someone logs a body.
// FLOTILLA_LOG_FORMAT=json|pretty (default: pretty on a terminal, JSON otherwise; pretty.ts),
// FLOTILLA_LOG_LEVEL (default info; LOG_LEVEL is still read). Request lines are debug, 5xx error.
import type { RequestHandler } from 'express';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { prettyStream } from './pretty.js';

export const REDACT_PATHS = [
  'req.headers.authorization', 'headers.authorization', 'authorization',
  'token', '*.token', 'kubeconfig', '*.kubeconfig', 'value', '*.value', 'secret', '*.secret',
  'body', '*.body',
];

export type LogFormat = 'json' | 'pretty';
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The level the environment asks for (default info). */
export function logLevel(env: NodeJS.ProcessEnv = process.env): string {
  const level = (env.FLOTILLA_LOG_LEVEL || env.LOG_LEVEL || 'info').toLowerCase();
  if (!LEVELS.includes(level)) throw new Error(`FLOTILLA_LOG_LEVEL must be one of ${LEVELS.join(', ')} (got "${level}")`);
  return level;
}

/** The format the environment asks for; pretty by default only on a terminal. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, terminal = process.stdout.isTTY === true): LogFormat {
  const format = (env.FLOTILLA_LOG_FORMAT || (terminal ? 'pretty' : 'json')).toLowerCase();
  if (format !== 'json' && format !== 'pretty') throw new Error(`FLOTILLA_LOG_FORMAT must be json or pretty (got "${format}")`);
  return format;
}

export interface LoggerOptions {
  level?: string;
  /** pino's `name` (default flotilla-api); the pretty format shows it as the component. */
  name?: string;
  /** Where lines go (default stdout). A given destination gets JSON unless `format` says otherwise: tests read it. */
  destination?: DestinationStream & { isTTY?: boolean };
  format?: LogFormat;
  env?: NodeJS.ProcessEnv;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const terminal = (options.destination ?? process.stdout).isTTY === true;
  const format = options.format ?? (options.destination ? 'json' : logFormat(env, terminal));
  const destination = format === 'pretty'
    ? prettyStream(options.destination ?? process.stdout, { colors: terminal && !env.NO_COLOR })
    : options.destination;
  return pino({
    name: options.name ?? 'flotilla-api',
    level: options.level ?? logLevel(env),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  }, destination);
}

/** A request's line is for debugging; a server error is an error. 4xx are the client's business. */
export function requestLevel(status: number): Level {
  return status >= 500 ? 'error' : 'debug';
}

/** One line per request: method, path (no query string), status, time, who. */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const principal = res.locals.principal as { name?: string } | undefined;
      logger[requestLevel(res.statusCode)]({
        requestId: res.locals.requestId,
        method: req.method,
        // The whole path (req.path lost its mount point, /v1, inside a router), without the query string.
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
        actor: principal?.name,
      }, 'request');
    });
    next();
  };
}
