#!/bin/sh
# First start of an empty PostgreSQL (compose: /docker-entrypoint-initdb.d; Kubernetes:
# the postgres-init ConfigMap runs the same): the users `prefect` and `avtaleflyt`,
# each owning its database. Passwords from PREFECT_DB_PASSWORD / AVTALEFLYT_DB_PASSWORD.
set -eu
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
     -v prefect_pw="$PREFECT_DB_PASSWORD" -v avtaleflyt_pw="$AVTALEFLYT_DB_PASSWORD" <<'SQL'
CREATE ROLE prefect LOGIN PASSWORD :'prefect_pw';
CREATE DATABASE prefect OWNER prefect;
CREATE ROLE avtaleflyt LOGIN PASSWORD :'avtaleflyt_pw';
CREATE DATABASE avtaleflyt OWNER avtaleflyt;
SQL
