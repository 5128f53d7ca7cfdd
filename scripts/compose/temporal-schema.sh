#!/bin/sh
# Creates Temporal's two PostgreSQL databases on the first run and brings their schemas to the
# version temporal-sql-tool carries on every run (the set-up step of docker-compose.yml, in the
# admin-tools image; the fault suite runs it too). Safe to run again: an existing database is
# kept and update-schema applies only what is missing.
#   SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD, TEMPORAL_DB (temporal), TEMPORAL_VISIBILITY_DB (temporal_visibility)
set -eu
: "${SQL_HOST:?}" "${SQL_USER:?}" "${SQL_PASSWORD:?}"
export SQL_PORT="${SQL_PORT:-5432}"
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
for pair in "${TEMPORAL_DB:-temporal}:temporal" "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}:visibility"; do
  db="${pair%%:*}"
  schema="${pair#*:}"
  # The version table answers only in a database that was set up before.
  if ! "$tool" --plugin postgres12 --db "$db" update-schema --schema-name "postgresql/v12/$schema" >/dev/null 2>&1; then
    "$tool" --plugin postgres12 --db "$db" create-database
    "$tool" --plugin postgres12 --db "$db" setup-schema -v 0.0
    "$tool" --plugin postgres12 --db "$db" update-schema --schema-name "postgresql/v12/$schema"
  fi
  echo "temporal-schema: $db at the schema postgresql/v12/$schema"
done
