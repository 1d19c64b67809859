/**
 * Do the dashboards' SQL panels stay fast with each index layout of the events
 * table? One table of `BENCH_KPI_QUERY_ROWS` events spread evenly over the past
 * 24 hours (45 % good_inference, 5 % bad_inference, 50 % other event names, so
 * the panels' `event IN (...)` filter has something to skip), written with the
 * store's COPY; then, per layout, the indexes are built, the table analysed
 * and vacuumed (which also summarises a BRIN index: see below), and every
 * PostgreSQL target of the committed Inference KPIs dashboard (expanded
 * exactly as Grafana would, for the last 1 h, 6 h and 24 h) plus the built-in
 * dashboard's per-minute query run 5 times; median ms each.
 *
 * A BRIN index only knows the page ranges it has summarised (autovacuum with
 * `autosummarize`, VACUUM, or `brin_summarize_new_values`); the others are read
 * whole, so without autovacuum (this test server, PGlite) it degrades to a scan.
 *
 *   npx tsx bench/kpi-queries.ts
 *   BENCH_KPI_QUERY_ROWS=2000000 npx tsx bench/kpi-queries.ts
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { IdGenerator } from '../src/kpi/ids.js';
import { pgStore } from '../src/kpi/index.js';
import { CopyRowBuffer } from '../src/kpi/row-buffer.js';
import { checkDashboards } from '../src/verify/checker.js';
import { loadDashboards, loadDatasources } from '../src/verify/dashboards.js';
import { emit, median } from './lib.js';

const PG_URL = process.env['LOOKOUT_BENCH_PG_URL'] ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = Number(process.env['BENCH_KPI_QUERY_ROWS'] ?? 2_000_000);
const DEPLOY = join(import.meta.dirname, '../deploy');
const HOUR = 3_600_000;
const OTHER = ['page_view', 'search', 'signup', 'checkout', 'feedback'];

/** Index layouts: statements run on the table (`t`, `n` the table's name) after the data is in. */
const LAYOUTS: Record<string, (t: string, n: string) => string[]> = {
  'migration 1: btree (creation_time) + btree (event, creation_time)': (t, n) => [
    `CREATE INDEX ${n}_time_btree ON ${t} (creation_time)`, `CREATE INDEX ${n}_event_time_btree ON ${t} (event, creation_time)`,
  ],
  'migration 2: btree (creation_time)': (t, n) => [`CREATE INDEX ${n}_time_btree ON ${t} (creation_time)`],
  'brin (creation_time), summarised': (t, n) => [`CREATE INDEX ${n}_time_brin ON ${t} USING brin (creation_time) WITH (pages_per_range = 32)`],
};

/** The dashboard panels' SQL for the last `hours` hours, plus the built-in dashboard's minute query. */
async function panelQueries(hours: number, now: number): Promise<{ name: string; sql: string }[]> {
  const dashboards = (await loadDashboards(join(DEPLOY, 'grafana/dashboards')))
    .filter((item) => item.file.includes('inference-kpis'))
    .map((item) => ({ ...item, dashboard: { ...item.dashboard, templating: { list: [] } } }));
  const datasources = await loadDatasources(join(DEPLOY, 'grafana/provisioning/datasources/datasources.yml'));
  const report = await checkDashboards({ dashboards, datasources, range: { fromMs: now - hours * HOUR, toMs: now }, now, expandOnly: true });
  const queries = report.targets.filter((target) => target.datasource === 'grafana-postgresql-datasource').map((target) => ({ name: `${target.panel} (${hours} h)`, sql: target.queries[0]! }));
  queries.push({
    name: `built-in dashboard, events per minute (${hours} h)`,
    sql: `SELECT floor(extract(epoch FROM creation_time) / 60)::float8 * 60000 AS minute, event, count(*)::float8 AS n FROM events WHERE creation_time >= to_timestamp(${now - hours * HOUR}::float8 / 1000) AND creation_time < to_timestamp(${now}::float8 / 1000) GROUP BY 1, 2 LIMIT 200000`,
  });
  return queries;
}

async function fill(schema: string, now: number): Promise<void> {
  const store = pgStore({ connectionString: PG_URL, schema, maxConnections: 1 });
  await store.open();
  const ids = new IdGenerator();
  const buffer = new CopyRowBuffer(50_000, ids);
  const start = now - 24 * HOUR;
  const step = (24 * HOUR) / ROWS;
  try {
    for (let index = 0; index < ROWS;) {
      for (let row = 0; row < 50_000 && index < ROWS; row++, index++) {
        const pick = index % 20;
        const event = pick < 9 ? 'good_inference' : pick === 9 ? 'bad_inference' : OTHER[pick % OTHER.length]!;
        buffer.push(event, start + index * step, `u-${index % 997}`, index % 3 === 0 ? 'resnet' : 'vit', `{"label":"${index % 2 === 0 ? 'cat' : 'dog'}","i":${index % 50}}`, null);
      }
      const batch = buffer.take(50_000);
      await store.write(batch, false);
      batch.release();
    }
  } finally {
    await store.close();
  }
}

/** Builds the table once, times the queries on each index layout; prints and returns the markdown table. */
export async function runQueryBench(): Promise<string[]> {
  const admin = new pg.Client({ connectionString: PG_URL, options: '-c statement_timeout=600000' });
  await admin.connect();
  const schema = `kpi_bench_queries_${process.pid}`;
  const table = `"${schema}".events`;
  const now = Date.now();
  const results: Record<string, Record<string, number>> = {};
  try {
    await fill(schema, now);
    // Only the primary key while writing; the layouts' indexes are built on the full table.
    for (const { indexname } of (await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname NOT LIKE $2', [schema, '%pkey'])).rows) {
      await admin.query(`DROP INDEX "${schema}"."${indexname}"`);
    }
    await admin.query(`SET search_path = "${schema}"`);
    const queries = [...(await panelQueries(1, now)), ...(await panelQueries(6, now)), ...(await panelQueries(24, now))];
    for (const [layout, statements] of Object.entries(LAYOUTS)) {
      const created = statements(table, `bench_${process.pid}`);
      for (const statement of created) await admin.query(statement);
      await admin.query(`VACUUM ANALYZE ${table}`); // and summarises the BRIN ranges, as autovacuum would
      const sizes = await admin.query<{ bytes: string }>(`SELECT coalesce(sum(pg_relation_size(indexrelid)), 0)::text AS bytes FROM pg_index WHERE indrelid = $1::regclass AND NOT indisprimary`, [table]);
      results[layout] = { 'index bytes': Number(sizes.rows[0]!.bytes) };
      for (const { name, sql } of queries) {
        const times: number[] = [];
        for (let run = 0; run < 5; run++) {
          const started = performance.now();
          await admin.query(sql);
          times.push(performance.now() - started);
        }
        results[layout]![name] = median(times);
      }
      for (const { indexname } of (await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname NOT LIKE $2', [schema, '%pkey'])).rows) {
        await admin.query(`DROP INDEX "${schema}"."${indexname}"`);
      }
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
  emit({ bench: 'kpi', name: 'dashboard_queries', rows: ROWS, results });
  const layouts = Object.keys(results);
  const lines = [`| query (${ROWS.toLocaleString('en-US')} events over 24 h) | ${layouts.join(' | ')} |`, `|---|${layouts.map(() => '---').join('|')}|`];
  for (const name of Object.keys(results[layouts[0]!]!)) {
    const cells = layouts.map((layout) => name === 'index bytes' ? `${(results[layout]![name]! / 1048576).toFixed(1)} MiB` : `${results[layout]![name]!.toFixed(1)} ms`);
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  console.log(lines.join('\n'));
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runQueryBench();
