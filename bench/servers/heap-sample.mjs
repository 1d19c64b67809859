/**
 * Preload for a benchmark server: V8's sampling heap profiler, counting the objects
 * that collections freed too, so the profile shows where a request's garbage comes
 * from (bench/alloc.ts only says how much). SIGURG starts it; the second SIGURG
 * writes the profile (Chrome DevTools' .heapprofile format) to HEAP_SAMPLE_OUT and
 * prints `SAMPLED <file>`.
 *   HEAP_SAMPLE_OUT=/tmp/lookout.heapprofile node --import ./bench/servers/heap-sample.mjs --import tsx bench/servers/hello.ts fastify lookout
 */
/* global process, console */
import inspector from 'node:inspector';
import { writeFileSync } from 'node:fs';

const session = new inspector.Session();
session.connect();
let sampling = false;
process.on('SIGURG', () => {
  if (!sampling) {
    sampling = true;
    session.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    return;
  }
  sampling = false;
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) throw error;
    writeFileSync(process.env.HEAP_SAMPLE_OUT, JSON.stringify(result.profile));
    console.log(`SAMPLED ${process.env.HEAP_SAMPLE_OUT}`);
  });
});
