// A postgres:// URL as libpq environment variables, so pg_dump and pg_restore get credentials
// through their environment, never their command line (which any local user can read in ps).
const PARAMS: Record<string, string> = {
  host: 'PGHOST', port: 'PGPORT', sslmode: 'PGSSLMODE', sslrootcert: 'PGSSLROOTCERT', sslcert: 'PGSSLCERT', sslkey: 'PGSSLKEY',
  sslpassword: 'PGSSLPASSWORD', connect_timeout: 'PGCONNECT_TIMEOUT', options: 'PGOPTIONS', target_session_attrs: 'PGTARGETSESSIONATTRS',
};

export function libpqEnv(url: string, applicationName: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = {};
  // Nothing of the worker's own PG* settings may redirect the tools elsewhere.
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('PG')) env[k] = v;
  if (u.hostname) env.PGHOST = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  for (const [k, v] of u.searchParams) {
    const name = PARAMS[k];
    if (name) env[name] = v;
  }
  env.PGAPPNAME = applicationName;
  return env;
}
