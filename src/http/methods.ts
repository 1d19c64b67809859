/** Standard methods keep their name; anything else folds into `_OTHER` (bounded labels). */
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', '_OTHER'] as const;

/** Index of the `_OTHER` slot. */
export const OTHER_METHOD = METHODS.length - 1;

/**
 * Maps a request method to its slot in {@link METHODS}; unknown methods get `_OTHER`.
 *
 * @example
 * ```ts
 * methodIndex('GET'); // 0
 * methodIndex('PROPFIND'); // 9 (_OTHER)
 * ```
 */
export function methodIndex(method: string | undefined): number {
  switch (method) {
    case 'GET': return 0;
    case 'HEAD': return 1;
    case 'POST': return 2;
    case 'PUT': return 3;
    case 'DELETE': return 4;
    case 'CONNECT': return 5;
    case 'OPTIONS': return 6;
    case 'TRACE': return 7;
    case 'PATCH': return 8;
    default: return OTHER_METHOD;
  }
}

/**
 * The path part of a request URL (no query string).
 *
 * @example
 * ```ts
 * pathOf('/users/7?full=1'); // '/users/7'
 * ```
 */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
