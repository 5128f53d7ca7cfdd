// How a data activity reaches an environment's database, whatever it lives in: an `external`
// database by the connection string in its connection secret, a `container` database through
// the cluster's API server (a port-forward to its pod, as `kubectl port-forward` does).
//
// The URL carries credentials: it never leaves the worker's memory (no log, error, heartbeat,
// workflow input or result names it). Errors name the environment and database, never the URL.

/** An open route to one database. Close it when done (a port-forward holds a connection open). */
export interface DatabaseEndpoint {
  /** A postgres:// URL with credentials, reachable from this process while the endpoint is open. */
  url: string;
  /** Where it goes, safe to log: e.g. "container orders-db in cluster eu-1, namespace shop-eu" or "external orders-db". */
  describe: string;
  close(): Promise<void>;
}

export interface DatabaseConnector {
  /** Opens a route to `database` (a name in the environment's spec) of `environment` (a catalog name). */
  open(environment: string, database: string): Promise<DatabaseEndpoint>;
}
