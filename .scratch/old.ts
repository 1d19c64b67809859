import { joinStore } from '../src/kpi/store-process.js';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
const dir = '/tmp/st/old'; rmSync(dir, { recursive: true, force: true }); mkdirSync(dir, { recursive: true });
writeFileSync(dir + '/PG_VERSION', '9.6\n');
const t = performance.now();
try { console.log(await joinStore({ dataDir: dir, startTimeoutMs: 30000 })); } catch (e) { console.log((e as Error).message, performance.now() - t); }
