import { quoteIdent } from './schema.js';

/**
 * The embedded store's users: `postgres` (PGlite's superuser: the API's writer, `lookout store`'s
 * own connection string) and the read-only role, named as `lookout provision` names Grafana's
 * PostgreSQL reader. Any other user name is refused at the startup message.
 *
 * @example
 * ```ts
 * `postgresql://${STORE_USERS.reader}@127.0.0.1:5433/postgres`;
 * ```
 */
export const STORE_USERS = { owner: 'postgres', reader: 'lookout_reader' } as const;

/** The one database a PGlite folder holds. @example STORE_DATABASE; // 'postgres' */
export const STORE_DATABASE = 'postgres';

/**
 * The statements that make `reader` a read-only role in a PGlite folder (idempotent; run as
 * `postgres` at every start of the store): SELECT on every table `postgres` has created or will
 * create (default privileges), USAGE on the schemas, and nothing else. PGlite has one session
 * whose authenticated user is a superuser, so the wire server switches it with `SET SESSION
 * AUTHORIZATION` per connection; what could switch it back from SQL is revoked from PUBLIC
 * (`set_config`, PL/pgSQL in `DO` blocks, temporary objects) and the wire server refuses the
 * statements that name it (see `readerRefusal`).
 *
 * @example
 * ```ts
 * await db.exec(readerRoleStatements('lookout_reader').join(';\n'));
 * ```
 */
export function readerRoleStatements(reader: string): string[] {
  const role = quoteIdent(reader);
  const literal = `'${reader.replaceAll("'", "''")}'`;
  return [
    `DO $lookout$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${literal}) THEN CREATE ROLE ${role} NOLOGIN; END IF; END $lookout$`,
    'REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC',
    'REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC',
    `REVOKE TEMPORARY ON DATABASE ${STORE_DATABASE} FROM PUBLIC`,
    'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${STORE_USERS.owner} GRANT USAGE ON SCHEMAS TO ${role}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${STORE_USERS.owner} GRANT SELECT ON TABLES TO ${role}`,
    `DO $lookout$ DECLARE s name; BEGIN
  FOR s IN SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${role.replaceAll("'", "''")}', s);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO ${role.replaceAll("'", "''")}', s);
  END LOOP;
END $lookout$`,
  ];
}

/**
 * The SQL that hands PGlite's one session to a connection's user (run by the wire server
 * when the backend passes between users): the reader's sessions are read-only by default too;
 * the owner's get every setting the reader may have changed reset.
 *
 * @example
 * ```ts
 * await db.exec(sessionSwitchSql('reader', 'lookout_reader'));
 * ```
 */
export function sessionSwitchSql(to: 'owner' | 'reader', reader: string): string {
  return to === 'reader'
    ? `SET SESSION AUTHORIZATION ${quoteIdent(reader)}; SET default_transaction_read_only = on`
    : `SET SESSION AUTHORIZATION ${STORE_USERS.owner}; RESET ALL`;
}

// What could give a reader's session back to the superuser, or hide a name from this check:
// SET/RESET SESSION AUTHORIZATION, the session_authorization setting, DISCARD ALL, U&"..." names.
const READER_REFUSED = /session_authorization|\bauthorization\b|\bdiscard\b|\bu&["']/i;

/**
 * Why the read-only role may not run a frontend message, or undefined: a function call
 * message, or a query / Parse whose text could switch the session's user back.
 *
 * @example
 * ```ts
 * readerRefusal(queryMessage('RESET SESSION AUTHORIZATION')); // 'the read-only role cannot ...'
 * ```
 */
export function readerRefusal(message: Buffer): string | undefined {
  const type = message[0];
  if (type === 0x46) return 'the read-only role cannot send function calls';
  if ((type === 0x51 || type === 0x50) && READER_REFUSED.test(message.toString('utf8', 5))) {
    return 'the read-only role cannot change the session authorization';
  }
  return undefined;
}

/**
 * The parameters of a StartupMessage (user, database, application_name, ...).
 *
 * @example
 * ```ts
 * startupParameters(message).user; // 'lookout_reader'
 * ```
 */
export function startupParameters(message: Buffer): Record<string, string> {
  const parts = message.toString('utf8', 8).split('\0');
  const parameters: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2) parameters[parts[i]!] = parts[i + 1]!;
  return parameters;
}

/**
 * An ErrorResponse message, as PostgreSQL writes one.
 *
 * @example
 * ```ts
 * socket.end(errorResponse('FATAL', '28000', 'role "bob" does not exist'));
 * ```
 */
export function errorResponse(severity: 'ERROR' | 'FATAL', code: string, text: string): Buffer {
  const fields = Buffer.from(`S${severity}\0V${severity}\0C${code}\0M${text}\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

/**
 * A ReadyForQuery message (`I` idle, `T` in a transaction, `E` in a failed one).
 *
 * @example
 * ```ts
 * socket.write(readyForQuery('I'));
 * ```
 */
export function readyForQuery(status: 'I' | 'T' | 'E'): Buffer {
  return Buffer.from([0x5a, 0, 0, 0, 5, status.charCodeAt(0)]);
}

/**
 * The connection string of an embedded store listening on `host:port`, for one of its users.
 *
 * @example
 * ```ts
 * storeConnectionString('127.0.0.1', 5433, 'lookout_reader'); // 'postgresql://lookout_reader@127.0.0.1:5433/postgres'
 * ```
 */
export function storeConnectionString(host: string, port: number, user: string): string {
  return `postgresql://${encodeURIComponent(user)}@${host.includes(':') ? `[${host}]` : host}:${port}/${STORE_DATABASE}`;
}
