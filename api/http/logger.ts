// Structured logs (pino), secrets redacted by path: the Authorization header, tokens,
// kubeconfigs and secret values never reach a log line even if someone logs a body.
import type { RequestHandler } from 'express';
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization', 'headers.authorization', 'authorization',
  'token', '*.token', 'kubeconfig', '*.kubeconfig', 'value', '*.value', 'secret', '*.secret',
  'body', '*.body',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino({
    name: 'flotilla-api',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  }, options.destination);
}

/** One line per request: method, path (no query string), status, time, who. */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const principal = res.locals.principal as { name?: string } | undefined;
      logger.info({
        requestId: res.locals.requestId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        actor: principal?.name,
      }, 'request');
    });
    next();
  };
}
