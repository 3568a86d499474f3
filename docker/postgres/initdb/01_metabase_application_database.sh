#!/usr/bin/env bash
# Runs once, on an empty volume (the image's docker-entrypoint-initdb.d): Metabase's own role `metabase`
# and its application database, beside the warehouse on the same server. Metabase keeps its settings,
# questions and dashboards there with no power over the warehouse. The password comes from the environment
# and reaches SQL through psql's \getenv and :'variable' quoting, never through the shell or the command line.
: "${METABASE_DB_PASSWORD:?METABASE_DB_PASSWORD must be set (copy .env.example to .env and fill it in)}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\getenv metabase_password METABASE_DB_PASSWORD
create role metabase login password :'metabase_password';
create database metabase_app owner metabase;
-- Metabase's own database is for Metabase: the warehouse's read-only role (queijaria dashboards reader) and any
-- other role may not even connect to it.
revoke connect, temporary on database metabase_app from public;
SQL
