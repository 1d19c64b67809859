import { flatJson } from './json.js';

/**
 * What `kpi.record` stores beside the event name. Every field is optional.
 *
 * @example
 * ```ts
 * const fields: KpiFields = { user: 'u-42', model: 'resnet-50', args: { label: 'cat' }, value: 0.93 };
 * ```
 */
export interface KpiFields {
  /** Who caused the event; numbers are stored as text. */
  readonly user?: string | number | null | undefined;
  /** Which model (or any second dimension). */
  readonly model?: string | null | undefined;
  /** Anything JSON can hold; stored as `jsonb`, queried as `args->>'key'`. */
  readonly args?: unknown;
  /** A number to aggregate (latency, score, price); NaN and ±Infinity are kept. */
  readonly value?: number | null | undefined;
}

/** Why a field was refused: `invalid` or `too_large`. @example const problem: FieldProblem = 'too_large'; */
export type FieldProblem = 'invalid' | 'too_large';

/** Reused by `checkText` and `serializeArgs` to report a refusal without allocating. @example const verdict: FieldVerdict = { problem: undefined, detail: '' }; */
export interface FieldVerdict {
  problem: FieldProblem | undefined;
  detail: string;
}

// A `\uXXXX` escape that JSON.stringify wrote for NUL or for a lone surrogate, not
// preceded by an escaping backslash: PostgreSQL's jsonb rejects both.
const REJECTED_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f])/i;

/**
 * Serialises `args` as JSON once, at `record` time (a later mutation of the
 * object does not change the stored row). Returns the JSON text, or `null`
 * and fills `verdict` when the value cannot be stored:
 * - circular structures, BigInt, a top-level function/symbol/undefined → `invalid`;
 * - strings holding NUL or a lone surrogate (PostgreSQL cannot store them) → `invalid`;
 * - more than `maxBytes` UTF-8 bytes of JSON → `too_large`.
 * Functions, symbols and undefined *inside* objects are left out, as `JSON.stringify` does.
 *
 * @example
 * ```ts
 * const verdict: FieldVerdict = { problem: undefined, detail: '' };
 * serializeArgs({ id: 1 }, 8192, verdict); // '{"id":1}'
 * ```
 */
export function serializeArgs(args: unknown, maxBytes: number, verdict: FieldVerdict): string | null {
  let json: string | undefined;
  // The flat fast path writes no escapes: only JSON.stringify's text needs the check below.
  let escaped = false;
  try {
    json = flatJson(args);
    if (json === undefined) {
      escaped = true;
      json = JSON.stringify(args);
    }
  } catch (error) {
    return refuse(verdict, 'invalid', `args cannot be serialised as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (json === undefined) return refuse(verdict, 'invalid', `args of type ${typeof args} cannot be serialised as JSON`);
  if (json.length > maxBytes || (json.length * 3 > maxBytes && Buffer.byteLength(json) > maxBytes)) {
    return refuse(verdict, 'too_large', `args is ${Buffer.byteLength(json)} bytes of JSON, more than maxArgsBytes (${maxBytes})`);
  }
  if (escaped && json.includes('\\u') && REJECTED_ESCAPE.test(json)) {
    return refuse(verdict, 'invalid', 'args holds a NUL character or a lone surrogate, which PostgreSQL cannot store');
  }
  return json;
}

/**
 * Checks `user` or `model`: a string (numbers become text for `user`), at most
 * `maxLength` characters. Returns the text, `null` for no value, or `null`
 * with `verdict` filled.
 *
 * @example
 * ```ts
 * checkText('user', 42, 1024, true, verdict); // '42'
 * ```
 */
export function checkText(name: string, value: unknown, maxLength: number, allowNumber: boolean, verdict: FieldVerdict): string | null {
  if (value === undefined || value === null) return null;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (allowNumber && typeof value === 'number') text = String(value);
  else return refuse(verdict, 'invalid', `${name} must be a string${allowNumber ? ' or a number' : ''}, got ${typeof value}`);
  if (text.length > maxLength) return refuse(verdict, 'too_large', `${name} is ${text.length} characters, more than maxFieldLength (${maxLength})`);
  return text;
}

function refuse(verdict: FieldVerdict, problem: FieldProblem, detail: string): null {
  verdict.problem = problem;
  verdict.detail = detail;
  return null;
}
