import { describe, expect, it } from 'vitest';
import { MIGRATIONS, qualifiedNames, quoteIdent, quoteLiteral, readerRoleSql } from './schema.js';

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
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual([1]);
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
