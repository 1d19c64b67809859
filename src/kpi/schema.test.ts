import { describe, expect, it } from 'vitest';
import { eventIndexSql, MIGRATIONS, qualifiedNames, quoteIdent, quoteLiteral, readerRoleSql } from './schema.js';

describe('SQL quoting', () => {
  it('quotes identifiers and literals', () => {
    expect(quoteIdent('user')).toBe('"user"');
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(() => quoteIdent('')).toThrow(/LOOKOUT_E_KPI_OPTION/);
    expect(qualifiedNames({ schema: 'kpi' })).toMatchObject({ events: '"kpi"."events"', migrations: '"kpi"."lookout_schema_migrations"' });
  });
});

describe('migrations', () => {
  it('create the events table the dashboards query, with its two indexes', () => {
    const sql = MIGRATIONS[0]!.statements({ schema: 'public', table: 'events' }).join('\n');
    for (const column of ['id uuid PRIMARY KEY', 'creation_time timestamptz', 'event text', '"user" text', 'model text', 'args jsonb', 'value double precision']) {
      expect(sql).toContain(column);
    }
    expect(sql).toContain('ON "public"."events" (creation_time)');
    expect(sql).toContain('ON "public"."events" (event, creation_time)');
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual([1, 2]);
  });

  it('version 2 drops the (event, creation_time) index of a plain table only, quoting the names', () => {
    const sql = MIGRATIONS[1]!.statements({ schema: 'we"ird', table: 'ev' }).join('\n');
    expect(sql).toContain('DROP INDEX IF EXISTS "we""ird"."ev_event_creation_time_idx"');
    expect(sql).toContain(`to_regclass('"we""ird"."ev"')) = 'r'`);
    expect(sql).toContain('pg_inherits');
    expect(eventIndexSql({ schema: 'kpi' })).toBe('CREATE INDEX CONCURRENTLY IF NOT EXISTS "events_event_creation_time_idx" ON "kpi"."events" (event, creation_time)');
    expect(() => quoteIdent('a$lookout_migration$b')).toThrow(/LOOKOUT_E_KPI_OPTION/);
  });
});

describe('readerRoleSql', () => {
  it('grants SELECT on the events table only, read-only sessions, escaped password', () => {
    const sql = readerRoleSql({ password: "p'w" });
    expect(sql).toContain('CREATE ROLE "lookout_reader" LOGIN PASSWORD \'p\'\'w\'');
    expect(sql).toContain('GRANT SELECT ON "public"."events" TO "lookout_reader"');
    expect(sql).toContain('default_transaction_read_only = on');
    expect(sql).not.toMatch(/GRANT (INSERT|UPDATE|DELETE|ALL)/);
    expect(readerRoleSql({ role: 'grafana', schema: 'kpi' })).toContain('CREATE ROLE "grafana" NOLOGIN');
  });
});
