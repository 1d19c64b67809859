/**
 * The values cluster fixture worker `worker` observes in its native histogram
 * `native_latency_seconds`: deterministic, so a test knows the exact merge.
 * Worker 1's narrow range keeps schema 5 within 24 buckets; the others' wider
 * ranges force coarser schemas, so the primary merges different resolutions.
 *
 * @example
 * ```ts
 * const all = [1, 2, 3].flatMap(nativeValues);
 * ```
 */
export function nativeValues(worker: number): number[] {
  return Array.from({ length: 200 }, (_, index) => (worker === 1 ? 0.02 + index * 0.0001 : 0.001 * 1.02 ** (index * worker)));
}
