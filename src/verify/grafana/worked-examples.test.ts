// GRAFANA-QUERIES.md §6: every worked example, byte for byte.
import { describe, expect, it } from 'vitest';
import { expandPostgresTarget, expandPrometheusTarget, type PanelView } from './queries.js';
import { expandPostgresMacros, sqlGlobalPass } from './sql-macros.js';
import { interpolate, prometheusFormatter, sqlFormatter, type VariableValue } from './template.js';

const range = { fromMs: 1704067200000, toMs: 1704088800000 };
const view: PanelView = { range, maxDataPoints: 1000, variables: [] };
const prometheus = { scrapeInterval: '15s' };
const expandProm = (expr: string) => expandPrometheusTarget({ expr }, prometheus, view);
const macro = (sql: string, timescaledb = false) => expandPostgresMacros(sql, range, { timescaledb }).sql;
const multi = (name: string, values: string[]): VariableValue => ({ name, multi: true, includeAll: false, selected: values, options: values });

describe('§6 Prometheus (range 6h, maxDataPoints 1000, scrape 15s)', () => {
  it('sends query_range with start, end and step 20', () => {
    expect(expandProm('up')).toEqual([{ kind: 'range', expr: 'up', start: 1704067200, end: 1704088800, step: 20 }]);
  });

  it.each([
    ['rate(x[$__rate_interval])', 'rate(x[1m0s])'],
    ['[$__interval]', '[20s]'],
    ['$__interval_ms', '20000'],
    ['$__range', '21600s'],
    ['$__range_s', '21600'],
    ['$__range_ms', '21600000'],
  ])('%s → %s', (input, output) => {
    expect(expandProm(input)[0]!.expr).toBe(output);
  });

  it('multi-value variable [a, b.c] → (a|b\\\\.c)', () => {
    const requests = expandPrometheusTarget({ expr: '{job=~"$job"}' }, prometheus, { ...view, variables: [multi('job', ['a', 'b.c'])] });
    expect(requests[0]!.expr).toBe('{job=~"(a|b\\\\.c)"}');
  });
});

describe('§6.1 PostgreSQL macros (same range)', () => {
  it.each([
    ['$__time(ts)', 'ts AS "time"'],
    ['$__timeEpoch(ts)', 'extract(epoch from ts) as "time"'],
    ['$__timeFilter(ts)', "ts BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T06:00:00Z'"],
    ['$__timeFrom()', "'2024-01-01T00:00:00Z'"],
    ['$__timeTo()', "'2024-01-01T06:00:00Z'"],
    ["$__timeGroupAlias(ts, '5m', 0)", 'floor(extract(epoch from ts)/300)*300 AS "time"'],
    ['$__unixEpochFilter(e)', 'e >= 1704067200 AND e <= 1704088800'],
    ['$__unixEpochNanoFilter(n)', 'n >= 1704067200000000000 AND n <= 1704088800000000000'],
    ["$__unixEpochGroupAlias(e, '1h')", 'floor((e)/3600)*3600 AS "time"'],
  ])('%s → %s', (input, output) => {
    expect(macro(input)).toBe(output);
  });

  it('$__timeGroup(ts, $__interval) → floor(extract(epoch from ts)/60)*60 (SQL $__interval is 1m)', () => {
    expect(expandPostgresTarget({ rawSql: 'SELECT $__timeGroup(ts, $__interval)' }, {}, view).sql).toBe('SELECT floor(extract(epoch from ts)/60)*60');
  });

  it("$__timeGroup(ts,'5m') with timescaledb → time_bucket('300.000s',ts)", () => {
    expect(macro("$__timeGroup(ts,'5m')", true)).toBe("time_bucket('300.000s',ts)");
  });

  it('$__unixEpochFrom() / $__unixEpochTo() (global pass) → 1704067200 / 1704088800', () => {
    expect(sqlGlobalPass('$__unixEpochFrom() $__unixEpochTo()', range, 60000)).toBe('1704067200 1704088800');
  });

  it('$__interval / $__interval_ms in SQL → 1m / 60000', () => {
    expect(expandPostgresTarget({ rawSql: '$__interval $__interval_ms' }, {}, view).sql).toBe('1m 60000');
  });

  it('$__from / ${__to:date} / ${__from:date:seconds}', () => {
    expect(expandPostgresTarget({ rawSql: '$__from ${__to:date} ${__from:date:seconds}' }, {}, view).sql).toBe('1704067200000 2024-01-01T06:00:00.000Z 1704067200');
  });

  it('host IN ($host) with [a, b] → host IN (\'a\',\'b\')', () => {
    expect(interpolate('host IN ($host)', [multi('host', ['a', 'b'])], {}, sqlFormatter)).toBe("host IN ('a','b')");
  });

  it('${host:csv} / ${host:pipe} / ${host:regex}', () => {
    expect(interpolate('${host:csv} ${host:pipe} ${host:regex}', [multi('host', ['a', 'b'])], {}, prometheusFormatter)).toBe('a,b a|b (a|b)');
  });
});

describe('§1.2 compatibility and errors', () => {
  it('$__timeGroup directly followed by "," gets AS "time"; otherwise not', () => {
    expect(macro("$__timeGroup(t,'5m'), value")).toBe('floor(extract(epoch from t)/300)*300 AS "time", value');
    expect(macro("$__timeGroup(t,'5m') as time, value")).toBe('floor(extract(epoch from t)/300)*300 as time, value');
  });

  it('fails on an unknown macro like Grafana', () => {
    expect(() => macro('$__nope(x)')).toThrow('unknown macro "__nope"');
  });

  it('prints intervals of a million seconds or more in exponent form', () => {
    expect(macro("$__timeGroup(t, '14d')")).toBe('floor(extract(epoch from t)/1.2096e+06)*1.2096e+06');
  });

  it('a fill argument changes nothing in the SQL but is reported', () => {
    expect(expandPostgresMacros("$__timeGroupAlias(ts, '5m', NULL)", range)).toEqual({ sql: 'floor(extract(epoch from ts)/300)*300 AS "time"', fill: { mode: 'null', intervalMs: 300000 } });
    expect(() => macro("$__timeGroup(ts, '5m', null)")).toThrow('error parsing fill value');
  });
});

describe('PostgreSQL datasource default interval (§6: 20s < 1m low limit)', () => {
  it('raises $__interval to the SQL default 1m', () => {
    expect(expandPostgresTarget({ rawSql: 'x' }, {}, view).intervalMs).toBe(60000);
  });
});
