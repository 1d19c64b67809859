/**
 * The template of an Express request's mount path. `req.baseUrl` is the part
 * of the URL its routers were mounted at, as matched: under
 * `app.use('/users/:userId/posts', router)` it is `/users/7/posts`, one
 * label per user. The mount layers of the app's router know the templates;
 * this walks them again, down the routers the request went through, and puts
 * each parameter back.
 */

/** A layer of an Express router, as Express 5 (router 2) and Express 4 keep it. */
interface MountLayer {
  readonly route?: unknown;
  readonly handle?: { readonly stack?: unknown };
  /** Express 5: the path the layer was mounted at, as written. */
  readonly rawPath?: unknown;
  /** Express 5: path-to-regexp matchers, `(path) => { path, params } | false`. */
  readonly matchers?: readonly ((path: string) => { path: string; params: Record<string, unknown> } | false)[];
  /** Express 4. */
  readonly regexp?: RegExp & { fast_slash?: boolean; fast_star?: boolean };
  readonly keys?: readonly { readonly name: string | number }[];
}

/** Static mount paths seen, each its own template (bounded: parameterised ones are not kept). */
const STATIC_LIMIT = 1_000;
const MAX_DEPTH = 16;

/**
 * Finds mount templates for one app's router.
 *
 * @example
 * ```ts
 * const mounts = new ExpressMounts();
 * mounts.template(app, '/users/7/posts'); // '/users/:userId/posts'
 * ```
 */
export class ExpressMounts {
  private readonly statics = new Set<string>();

  /** The template of `baseUrl` in `app`'s routers, or `baseUrl` itself when no mount layer explains it. */
  template(app: unknown, baseUrl: string): string {
    if (this.statics.has(baseUrl)) return baseUrl;
    const stack = routerStack(app);
    const found = stack === undefined ? undefined : walk(stack, baseUrl, 0);
    const template = found ?? baseUrl;
    if (template === baseUrl && this.statics.size < STATIC_LIMIT) this.statics.add(baseUrl);
    return template;
  }
}

function routerStack(app: unknown): readonly MountLayer[] | undefined {
  try {
    const candidate = app as { _router?: { stack?: unknown }; router?: { stack?: unknown } };
    // Express 4 keeps the router in `_router` (its `router` getter throws); Express 5 in `router`.
    const stack = candidate?._router?.stack ?? candidate?.router?.stack;
    return Array.isArray(stack) ? (stack as MountLayer[]) : undefined;
  } catch {
    return undefined;
  }
}

/** The template of `rest` through the mount layers of `stack` and the routers below them. */
function walk(stack: readonly MountLayer[], rest: string, depth: number): string | undefined {
  if (rest === '' || rest === '/') return rest;
  if (depth >= MAX_DEPTH) return undefined;
  for (const layer of stack) {
    if (layer.route !== undefined) continue;
    const below = layer.handle?.stack;
    if (!Array.isArray(below)) continue;
    const matched = matchPrefix(layer, rest);
    if (matched === undefined) continue;
    const remaining = rest.slice(matched.path.length);
    if (matched.path.length === 0 && remaining === rest && depth > 0 && below === stack) continue;
    const inner = walk(below as MountLayer[], remaining, depth + 1);
    if (inner !== undefined) return matched.template + inner;
  }
  return undefined;
}

/** What a mount layer matched at the start of `path`, and its template. */
function matchPrefix(layer: MountLayer, path: string): { path: string; template: string } | undefined {
  if (layer.matchers !== undefined && layer.matchers.length > 0) {
    for (const matcher of layer.matchers) {
      const match = matcher(path);
      if (match === false) continue;
      const matched = match.path.endsWith('/') && match.path.length > 1 ? match.path.slice(0, -1) : match.path;
      const raw = layer.rawPath;
      const template = typeof raw === 'string' && raw !== '/' ? raw.replace(/\/$/, '') : putBack(matched, Object.entries(match.params));
      return { path: matched === '/' ? '' : matched, template: matched === '/' ? '' : template };
    }
    return undefined;
  }
  const regexp = layer.regexp;
  if (regexp === undefined) return undefined;
  if (regexp.fast_slash === true) return { path: '', template: '' };
  const match = regexp.exec(path);
  if (match === null || match.index !== 0) return undefined;
  const matched = match[0].endsWith('/') ? match[0].slice(0, -1) : match[0];
  const keys = layer.keys ?? [];
  return { path: matched, template: putBack(matched, keys.map((key, index) => [String(key.name), match[index + 1]])) };
}

/** `matched` with each parameter's value, left to right, replaced by `:name`. */
function putBack(matched: string, params: readonly (readonly [string, unknown])[]): string {
  let template = '';
  let from = 0;
  for (const [name, value] of params) {
    if (typeof value !== 'string' || value === '') continue;
    const encoded = matched.indexOf(value, from) >= 0 ? value : encodeURIComponent(value);
    const at = matched.indexOf(encoded, from);
    if (at < 0) continue;
    template += `${matched.slice(from, at)}:${name}`;
    from = at + encoded.length;
  }
  return template + matched.slice(from);
}
