// Patch ids of changed workflow code. A run started before a patch has no marker for it and
// replays through the code it ran (workflows/legacy); runs started after it take the new path.

/**
 * One change at a time per environment (locks), pinned overrides, desired = deployed after a
 * promotion or rollback, databases before migrations, prune after the rollout, outcomes as
 * results, N approvers, native cancel that rolls back, bounded onboarding histories.
 */
export const CHANGE_CONTROL_PATCH = 'change-control';

/**
 * An operation frees its environments before it reports its end (and a promotion before it
 * shows its final phase), so a client that sees the end can start the next change at once.
 */
export const RELEASE_BEFORE_END_PATCH = 'release-before-end';

/**
 * Temporal's own cancel counts from the workflow task that first sees it, like the cancel
 * signal: a cancel that arrives together with the last health check's result still rolls back
 * (older runs completed, because only the operations it cut short noticed it).
 */
export const NATIVE_CANCEL_PATCH = 'native-cancel-counts';

/**
 * Lifecycle jobs: a deploy runs the revision's beforeDeploy jobs once its databases are ready
 * (before migrations and workloads change) and its afterDeploy jobs after the rollout (before
 * prune and record). Only revisions with such jobs (DeployPlan.hooks) check it.
 */
export const LIFECYCLE_JOBS_PATCH = 'lifecycle-jobs';

/**
 * Catalog bookkeeping (locks, the operations index, plans, the record of a deploy) runs as local
 * activities: in the workflow task that asks for it, without a round trip through the server
 * per step, so a deploy reaches its first apply sooner and ends sooner after its rollout.
 */
export const LOCAL_CATALOG_PATCH = 'local-catalog-steps';

/**
 * A deploy looks for what it will prune (findPrunable, reads only) while it waits for the
 * rollout, and deletes exactly that afterwards: nothing to prune costs no step after the rollout.
 */
export const PRUNE_FOUND_DURING_ROLLOUT_PATCH = 'prune-found-during-rollout';

/**
 * A rollout wait that fails stops the search for what to prune (its activity is cancelled): the
 * deploy fails at once, not after the search has retried against a cluster that stopped
 * answering. Older runs waited for the search to end either way.
 */
export const STOP_PRUNE_SEARCH_PATCH = 'stop-prune-search-on-failed-wait';

/**
 * A promotion (and a standalone deploy) frees its environments with an activity task, not a
 * local activity: the task is scheduled by a workflow task the server accepts, which fixes how
 * the operation ends before anything is freed. A local activity runs before its workflow task is
 * accepted, and the server refuses the task that completes the workflow when a cancel or signal
 * arrived meanwhile: the replay saw the cancel, and a promotion rolled back without the locks it
 * had already given up (a deploy reported "cancelled" after reporting and recording its end).
 */
export const RELEASE_AS_TASK_PATCH = 'release-as-activity-task';
