import { escapeLabelValue } from './format.js';

/** OpenMetrics limits an exemplar's label set to 128 UTF-8 characters. */
const MAX_TRACE_ID_LENGTH = 64;

/**
 * Renders ` # {trace_id="..."} value timestamp` for an OpenMetrics sample line.
 *
 * @example
 * ```ts
 * renderExemplar('4bf92f3577b34da6a3ce929d0e0e4736', 0.12, 1700000000.5);
 * ```
 */
export function renderExemplar(traceId: string, value: number, timestampSeconds: number): string {
  return ` # {trace_id="${escapeLabelValue(traceId)}"} ${value} ${timestampSeconds}`;
}

/**
 * Keeps a trace id within the OpenMetrics exemplar size limit.
 *
 * @example
 * ```ts
 * boundTraceId('a'.repeat(200)).length; // 64
 * ```
 */
export function boundTraceId(traceId: string): string {
  return traceId.length > MAX_TRACE_ID_LENGTH ? traceId.slice(0, MAX_TRACE_ID_LENGTH) : traceId;
}
