import { MIGRATIONS, readerRoleSql } from '../kpi/schema.js';
import type { ResolvedProvisionOptions } from './options.js';
import { GENERATED_NOTICE } from './yaml.js';

/**
 * The PostgreSQL container's init script (runs once, on an empty data directory, as the owner
 * role the API writes with). It creates `public.events` with the KPI module's migrations, in
 * order, so the table starts in its current layout (idempotent: the API's own migration later
 * finds it and records the versions), then the
 * KPI module's read-only role: SELECT on `events` only, sessions read-only by default. The role
 * gets its LOGIN password from `LOOKOUT_READER_PASSWORD`, never from a file.
 *
 * @example
 * ```ts
 * const script = readerInitScript(resolveProvisionOptions());
 * ```
 */
export function readerInitScript(options: ResolvedProvisionOptions): string {
  const role = options.datasources.postgres.readerRole;
  const quoted = `"${role}"`;
  const createTable = MIGRATIONS.flatMap((migration) => migration.statements({ schema: 'public', table: 'events' })).map((statement) => `${statement};`);
  return [
    '#!/bin/sh',
    `# ${GENERATED_NOTICE}`,
    '# Runs once, when the postgres container initialises an empty data directory.',
    `# Creates public.events (KPI migrations ${MIGRATIONS.map((migration) => migration.version).join(', ')}) and ${role}: SELECT on events only, for Grafana.`,
    'set -eu',
    ': "${LOOKOUT_READER_PASSWORD:?LOOKOUT_READER_PASSWORD must be set (see .env.example)}"',
    'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \\',
    '  -v reader_password="$LOOKOUT_READER_PASSWORD" <<\'SQL\'',
    ...createTable,
    readerRoleSql({ role, schema: 'public', table: 'events' }),
    `ALTER ROLE ${quoted} LOGIN PASSWORD :'reader_password';`,
    `GRANT CONNECT ON DATABASE :"DBNAME" TO ${quoted};`,
    'SQL',
    '',
  ].join('\n');
}
