// The target database's safety: Flotilla writes only into a database that is empty, or that
// carries its marker from an earlier attempt of the same copy, and resets only what that copy
// created. The marker is the `flotilla_clone` schema: a row naming the copy, its state, how the
// public schema looked before (to restore it on a reset), and the result once complete.
import type pg from 'pg';
import { MARKER_SCHEMA, quoteIdent } from './introspect.js';
import { SameDatabaseError, TargetNotEmptyError, TargetOwnedByOtherCopyError } from './errors.js';

export type MarkerState = 'copying' | 'complete';

export interface Marker {
  copyId: string;
  state: MarkerState;
  attempt: number;
  result?: unknown;
}

/** What identifies a database across connections: the server (system identifier, else start time and port) and the database oid. */
export async function databaseIdentity(client: pg.ClientBase): Promise<string> {
  const server = await client.query<{ id: string }>(`
    select coalesce((select system_identifier::text from pg_control_system()), '') || '/' || pg_postmaster_start_time()::text
      || '/' || coalesce(inet_server_port()::text, current_setting('port')) as id`).catch(() =>
    client.query<{ id: string }>(`select pg_postmaster_start_time()::text || '/' || coalesce(inet_server_port()::text, current_setting('port')) as id`));
  const db = await client.query<{ oid: string }>('select oid::text from pg_database where datname = current_database()');
  return `${server.rows[0]?.id}/${db.rows[0]?.oid}`;
}

export async function refuseSameDatabase(source: pg.ClientBase, target: pg.ClientBase, describe: string): Promise<void> {
  if ((await databaseIdentity(source)) === (await databaseIdentity(target))) {
    throw new SameDatabaseError(`source and target are the same database (${describe}): refusing to copy a database onto itself`);
  }
}

export async function readMarker(client: pg.ClientBase): Promise<Marker | undefined> {
  const exists = await client.query(`select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = 'marker'`, [MARKER_SCHEMA]);
  if (exists.rowCount === 0) return undefined;
  const rows = await client.query<{ copy_id: string; state: MarkerState; attempt: number; result: unknown }>(
    `select copy_id, state, attempt, result from ${MARKER_SCHEMA}.marker limit 1`);
  const row = rows.rows[0];
  return row && { copyId: row.copy_id, state: row.state, attempt: row.attempt, ...(row.result !== null ? { result: row.result } : {}) };
}

/** What in the target is not PostgreSQL's own, Flotilla's marker, or an empty public schema. */
export async function userObjects(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ what: string; n: string }>(`
    with ns as (select oid, nspname from pg_namespace where nspname not in ('pg_catalog', 'information_schema', 'pg_toast', $1)
                and nspname !~ '^pg_(temp_|toast_temp_)')
    select 'schemas' as what, count(*)::text as n from ns where nspname <> 'public'
    union all select 'relations', count(*)::text from pg_class where relnamespace in (select oid from ns)
    union all select 'functions', count(*)::text from pg_proc where pronamespace in (select oid from ns)
    union all select 'types', count(*)::text from pg_type where typnamespace in (select oid from ns)
    union all select 'extensions', count(*)::text from pg_extension where extname <> 'plpgsql'
    union all select 'large objects', count(*)::text from pg_largeobject_metadata`, [MARKER_SCHEMA]);
  return rows.filter((r) => Number(r.n) > 0).map((r) => `${r.n} ${r.what}`);
}

/**
 * Claims the target for `copyId`: marks an empty database, or takes over the marker of an
 * earlier attempt of the same copy (then resets what it created). Refuses anything else.
 * Returns the marker as found (undefined for a fresh claim).
 */
export async function claimTarget(client: pg.ClientBase, copyId: string, describe: string): Promise<Marker | undefined> {
  const marker = await readMarker(client);
  if (marker) {
    if (marker.copyId !== copyId) {
      throw new TargetOwnedByOtherCopyError(`target ${describe} holds Flotilla copy "${marker.copyId}", not "${copyId}": refusing to overwrite it (drop that copy first)`);
    }
    if (marker.state === 'complete') return marker;
    await resetTarget(client);
    await client.query(`update ${MARKER_SCHEMA}.marker set state = 'copying', attempt = attempt + 1, updated_at = now(), result = null`);
    return marker;
  }
  await client.query('begin');
  try {
    const found = await userObjects(client);
    if (found.length > 0) {
      throw new TargetNotEmptyError(`target ${describe} is not empty (${found.join(', ')}) and carries no Flotilla marker: Flotilla only copies into an empty database`);
    }
    // Fails if another copy created it meanwhile: then this one does not own the target.
    await client.query(`create schema ${MARKER_SCHEMA}`);
    await client.query(`
      create table ${MARKER_SCHEMA}.marker (
        copy_id text primary key, state text not null, attempt int not null default 1,
        public_schema jsonb, result jsonb, started_at timestamptz not null default now(), updated_at timestamptz not null default now())`);
    // How the public schema was, so a reset can put it back exactly.
    await client.query(`
      insert into ${MARKER_SCHEMA}.marker (copy_id, state, public_schema)
      select $1, 'copying', (select jsonb_build_object('owner', nspowner::regrole::text, 'comment', obj_description(oid, 'pg_namespace'),
          'grants', coalesce((select jsonb_agg(jsonb_build_object('privilege', a.privilege_type, 'grantee', case when a.grantee = 0 then null else a.grantee::regrole::text end))
                              from aclexplode(nspacl) a where a.grantee <> nspowner), '[]'::jsonb))
        from pg_namespace where nspname = 'public')`, [copyId]);
    await client.query('comment on schema flotilla_clone is \'Flotilla data copy marker: do not edit\'');
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
  return undefined;
}

interface PublicSchema {
  owner: string;
  comment: string | null;
  grants: { privilege: string; grantee: string | null }[];
}

/**
 * Drops everything in the target but the marker, and puts the public schema back as it was
 * when the copy first claimed the database (the database was empty then: all of it is ours).
 */
export async function resetTarget(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ public_schema: PublicSchema | null }>(`select public_schema from ${MARKER_SCHEMA}.marker limit 1`);
  const publicSchema = rows[0]?.public_schema ?? null;
  const schemas = await client.query<{ nspname: string }>(`
    select nspname from pg_namespace where nspname not in ('pg_catalog', 'information_schema', 'pg_toast', $1)
      and nspname !~ '^pg_(temp_|toast_temp_)'`, [MARKER_SCHEMA]);
  await client.query('begin');
  try {
    for (const { nspname } of schemas.rows) await client.query(`drop schema ${quoteIdent(nspname)} cascade`);
    const extensions = await client.query<{ extname: string }>(`select extname from pg_extension where extname <> 'plpgsql'`);
    for (const { extname } of extensions.rows) await client.query(`drop extension if exists ${quoteIdent(extname)} cascade`);
    if (publicSchema) {
      const owner = publicSchema.owner === '-' ? 'current_user' : quoteIdent(publicSchema.owner);
      await client.query(`create schema public authorization ${owner}`);
      for (const g of publicSchema.grants) {
        await client.query(`grant ${g.privilege} on schema public to ${g.grantee === null ? 'public' : quoteIdent(g.grantee)}`);
      }
      if (publicSchema.comment !== null) await client.query(`comment on schema public is ${literal(publicSchema.comment)}`);
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

/** Records the finished copy, with its result, so a retried activity returns it instead of copying again. */
export async function completeMarker(client: pg.ClientBase, result: unknown): Promise<void> {
  await client.query(`update ${MARKER_SCHEMA}.marker set state = 'complete', result = $1, updated_at = now()`, [JSON.stringify(result)]);
}

/** Empties the target of what the copy made, marker included: it is an empty database again. */
export async function dropCopy(client: pg.ClientBase, copyId: string, describe: string): Promise<'dropped' | 'already-empty'> {
  const marker = await readMarker(client);
  if (!marker) {
    const found = await userObjects(client);
    if (found.length === 0) return 'already-empty';
    throw new TargetNotEmptyError(`target ${describe} carries no Flotilla marker (${found.join(', ')}): Flotilla drops only data it copied`);
  }
  if (marker.copyId !== copyId) {
    throw new TargetOwnedByOtherCopyError(`target ${describe} holds Flotilla copy "${marker.copyId}", not "${copyId}": not dropping it`);
  }
  await resetTarget(client);
  await client.query(`drop schema ${MARKER_SCHEMA} cascade`);
  return 'dropped';
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
