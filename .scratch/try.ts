import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { serveWire, type PgliteWireLike } from '/work/wt-store/src/kpi/store-server.ts';
const dir = '/tmp/st/data'; rmSync(dir, { recursive: true, force: true }); mkdirSync(dir);
writeFileSync(dir + '/lookout-store.json', '{}');
let t = performance.now();
const db = await PGlite.create({ dataDir: dir });
console.log('create', performance.now() - t, process.memoryUsage().rss / 1e6);
const server = await serveWire(db as unknown as PgliteWireLike);
const url = `postgresql://postgres@127.0.0.1:${server.port}/postgres`;
const pool = new pg.Pool({ connectionString: url, max: 3 });
console.log((await pool.query('select version()')).rows);
await pool.query('create table if not exists t (id int primary key, v text)');
await Promise.all([1,2,3,4,5,6].map((i) => pool.query('insert into t values ($1, $2)', [i, 'x'])));
console.log("q", (await pool.query("select count(*) from t")).rows);
const c = await pool.connect(); c.on("error", (e) => console.log("client error", e.message));
try {
  await c.query('BEGIN');
  const s = c.query(copyStreams.from('COPY t FROM STDIN'));
  await new Promise((res, rej) => { s.on('finish', res); s.on('error', rej); s.write('100\tcopy\n'); s.end(); });
  await c.query('COMMIT');
  console.log('copy ok', (await c.query('select count(*) from t')).rows);
  c.release();
} catch (e) { console.log('copy failed', (e as Error).message); c.release(true); }
console.log("q", (await pool.query("select count(*) from t")).rows);
await pool.end(); await server.close(); await db.close();
console.log('done');
