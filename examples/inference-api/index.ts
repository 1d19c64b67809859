/**
 * The reference inference API, instrumented with lookout (see README, "The reference inference
 * API and the demo"). Start it with `startInferenceApi()`; drive it with `runTraffic()`.
 *
 * @example
 * ```ts
 * import { runTraffic, startInferenceApi } from './examples/inference-api/index.js';
 * const api = await startInferenceApi({ port: 0 });
 * await runTraffic({ url: api.url, durationMs: 5000 });
 * await api.close();
 * ```
 */
export { startInferenceApi, type InferenceApi, type InferenceApiOptions, type PluginOptions } from './app.js';
export { INFERENCE_EVENTS, type InferenceEvent } from './routes.js';
export { CLASS_LABELS, type ClassLabel } from './data.js';
export { assertLoopback, describeTraffic, runTraffic, type TrafficOptions, type TrafficReport } from './traffic.js';
