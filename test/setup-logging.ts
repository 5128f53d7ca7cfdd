// Keeps the Temporal SDK's own INFO chatter out of test output; warnings still show.
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed in this worker thread.
}
