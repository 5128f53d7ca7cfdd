#!/bin/sh
# PostgreSQL's first start (docker-entrypoint-initdb.d): Flotilla's catalog gets a user and a
# database of its own beside Temporal's, so neither can read or change the other's tables.
set -eu
: "${FLOTILLA_CATALOG_PASSWORD:?set FLOTILLA_CATALOG_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v password="$FLOTILLA_CATALOG_PASSWORD" <<'SQL'
CREATE ROLE flotilla LOGIN PASSWORD :'password';
CREATE DATABASE flotilla OWNER flotilla;
REVOKE ALL ON DATABASE flotilla FROM PUBLIC;
SQL
