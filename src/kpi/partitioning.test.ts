import { describe, expect, it } from 'vitest';
import { partitionedEventsSql, partitionedEventsStatements, partitionFunctions, timescaleEventsSql } from './partitioning.js';

describe('partitionedEventsSql', () => {
  it('partitions by range on creation_time with the key widened to (id, creation_time) and a default partition', () => {
    const sql = partitionedEventsSql();
    expect(sql).toContain('PRIMARY KEY (id, creation_time)\n) PARTITION BY RANGE (creation_time)');
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "public"."events_default" PARTITION OF "public"."events" DEFAULT');
    expect(sql).toMatch(/^BEGIN;$/m);
    expect(sql.trimEnd().endsWith('COMMIT;')).toBe(true);
    expect(sql).toContain(`SELECT "public"."lookout_events_drop_partitions"(interval '13 months');`);
    expect(sql).toContain('SELECT "public"."lookout_events_create_partitions"(3);');
  });

  it('names monthly partitions YYYYMM and daily or weekly ones YYYYMMDD', () => {
    expect(partitionedEventsSql({ interval: 'month' })).toContain(`to_char(range_start, 'YYYYMM')`);
    expect(partitionedEventsSql({ interval: 'day' })).toContain(`interval '1 day'`);
    expect(partitionedEventsSql({ interval: 'week' })).toContain(`to_char(range_start, 'YYYYMMDD')`);
  });

  it('quotes odd schema and table names everywhere', () => {
    const statements = partitionedEventsStatements({ schema: 'my "kpi"', table: 'ev' });
    expect(statements.join('\n')).toContain('"my ""kpi"""."ev"');
    expect(partitionFunctions({ schema: 'my "kpi"', table: 'ev' }).createPartitions).toBe('"my ""kpi"""."lookout_ev_create_partitions"');
  });

  it.each([
    [{ interval: 'year' as 'month' }, 'interval'],
    [{ premake: -1 }, 'premake'],
    [{ premake: 1.5 }, 'premake'],
    [{ retention: '13 monthz' }, 'retention'],
    [{ retention: "1 day'; DROP TABLE x; --" }, 'retention'],
  ])('rejects %j naming %s', (options, field) => {
    expect(() => partitionedEventsSql(options)).toThrow(new RegExp(`LOOKOUT_E_KPI_OPTION: ${field}`));
  });
});

describe('timescaleEventsSql', () => {
  it('makes a hypertable on creation_time with compression and retention policies', () => {
    const sql = timescaleEventsSql({ chunkInterval: '7 days', compressAfter: '14 days', retention: '2 years' });
    expect(sql).toContain('CREATE EXTENSION IF NOT EXISTS timescaledb;');
    expect(sql).toContain(`SELECT create_hypertable('"public"."events"', 'creation_time', chunk_time_interval => interval '7 days', if_not_exists => TRUE, migrate_data => TRUE);`);
    expect(sql).toContain(`add_compression_policy('"public"."events"', interval '14 days', if_not_exists => TRUE)`);
    expect(sql).toContain(`add_retention_policy('"public"."events"', interval '2 years', if_not_exists => TRUE)`);
    expect(sql).toContain('NOT exercised by lookout');
  });

  it('leaves a policy out when set to false', () => {
    const sql = timescaleEventsSql({ compressAfter: false, retention: false });
    expect(sql).not.toContain('add_compression_policy');
    expect(sql).not.toContain('add_retention_policy');
    expect(sql).toContain('create_hypertable');
  });

  it('rejects an interval that is not one', () => {
    expect(() => timescaleEventsSql({ chunkInterval: '1 fortnight' })).toThrow(/LOOKOUT_E_KPI_OPTION: chunkInterval/);
  });
});
