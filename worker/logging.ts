// The Temporal SDK's log (the worker's own, activities' and workflows' `log`) into the process's
// pino logger (api/http/logger.ts: JSON or pretty, FLOTILLA_LOG_LEVEL), with levels for people:
// the SDK's own chatter (worker state changes, bundle built) at debug, a workflow's completion
// (an operation's outcome) at info, failures at warn as the SDK logs them. The SDK's own entries
// keep only plain values: its "Creating worker" dumps the worker's options, payload key ring
// included, which must never reach a log.
// Install it before anything starts a worker: Runtime.install({ logger: temporalLogger(logger) }).
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import type { Level, Logger } from 'pino';

/** The level a Temporal log entry gets. */
export function temporalLevel(entry: Pick<LogEntry, 'level' | 'message' | 'meta'>): Level {
  const sdk = isSdk(entry.meta);
  if (sdk && (entry.message === 'Workflow completed' || entry.message === 'Workflow completed as cancelled')) return 'info';
  if (sdk && entry.level === 'INFO') return 'debug';
  return entry.level.toLowerCase() as Level;
}

/** A Temporal logger writing to `logger`; the SDK's `error` metadata becomes pino's `err` (serialized with its stack). */
export function temporalLogger(logger: Logger): DefaultLogger {
  // DEBUG at least: a workflow's completion is logged at DEBUG and shown at info.
  return new DefaultLogger(logger.isLevelEnabled('trace') ? 'TRACE' : 'DEBUG', (entry) => {
    const level = temporalLevel(entry);
    if (!logger.isLevelEnabled(level)) return;
    const { error, ...meta } = entry.meta ?? {};
    const fields = isSdk(entry.meta) ? Object.fromEntries(Object.entries(meta).filter(([, v]) => v === null || typeof v !== 'object')) : meta;
    logger[level](error === undefined ? fields : { ...fields, err: error }, entry.message);
  });
}

function isSdk(meta: LogEntry['meta']): boolean {
  const component = meta?.sdkComponent as string | undefined;
  return component === undefined || component === 'worker' || component === 'core';
}
