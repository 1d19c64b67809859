import { METHODS, methodIndex, pathOf } from '../http/methods.js';
import { RouteMatcher } from '../http/route-matcher.js';

/**
 * How a Fastify app's router compares paths (find-my-way's options that
 * change which requests reach a route).
 *
 * @example
 * ```ts
 * const rules: FastifyPathRules = { ignoreTrailingSlash: true, ignoreDuplicateSlashes: false, caseSensitive: true, useSemicolonDelimiter: false };
 * ```
 */
export interface FastifyPathRules {
  readonly ignoreTrailingSlash: boolean;
  readonly ignoreDuplicateSlashes: boolean;
  readonly caseSensitive: boolean;
  readonly useSemicolonDelimiter: boolean;
}

/**
 * Reads the path rules from a Fastify instance's `initialConfig`: Fastify 5
 * takes them at the top level (deprecated) or under `routerOptions`, which
 * wins.
 *
 * @example
 * ```ts
 * const rules = fastifyPathRules(app.initialConfig);
 * ```
 */
export function fastifyPathRules(config: object | undefined): FastifyPathRules {
  const top = (config ?? {}) as Record<string, unknown>;
  const router = (typeof top['routerOptions'] === 'object' && top['routerOptions'] !== null ? top['routerOptions'] : {}) as Record<string, unknown>;
  const pick = (name: string, fallback: boolean): boolean => {
    const value = router[name] ?? top[name];
    return typeof value === 'boolean' ? value : fallback;
  };
  return {
    ignoreTrailingSlash: pick('ignoreTrailingSlash', false),
    ignoreDuplicateSlashes: pick('ignoreDuplicateSlashes', false),
    caseSensitive: pick('caseSensitive', true),
    useSemicolonDelimiter: pick('useSemicolonDelimiter', false),
  };
}

/**
 * The route templates of a Fastify app by method, matched when a request
 * finishes: the adapter then needs no hook and no handler wrapper on the
 * request path. A request gets the template of the route its method and
 * path reach, whatever its status (a handler's own 404 keeps its route;
 * Fastify's not-found answer matches nothing). Paths are compared the way
 * the app's router compares them (case, trailing and duplicate slashes,
 * `;` delimiter); the label is the template as registered. Parameters with
 * a pattern (`:id(^\\d+)`) match only what it matches; an optional last
 * parameter matches with or without its segment. Route constraints (version,
 * host) are not compared: a request no constrained variant accepts is
 * labelled with the route's template.
 *
 * @example
 * ```ts
 * const routes = new FastifyRoutes(fastifyPathRules(app.initialConfig));
 * routes.add(['GET', 'HEAD'], '/users/:id');
 * routes.match(0, '/users/7?x=1'); // '/users/:id'
 * routes.match(2, '/users/7'); // undefined (no POST route)
 * ```
 */
export class FastifyRoutes {
  private readonly byMethod: (RouteMatcher | undefined)[] = new Array<RouteMatcher | undefined>(METHODS.length).fill(undefined);
  private readonly plain: boolean;

  constructor(private readonly rules: FastifyPathRules) {
    this.plain = !rules.ignoreTrailingSlash && !rules.ignoreDuplicateSlashes && rules.caseSensitive && !rules.useSemicolonDelimiter;
  }

  /** Adds a route (its method or methods, and its full URL template, prefix included). */
  add(methods: string | readonly string[], template: string): void {
    // `*` alone is the router's `/*`.
    const absolute = template.startsWith('/') ? template : `/${template}`;
    const pattern = this.plain ? absolute : this.normalise(absolute);
    // An optional last parameter (`/files/:name?`) also answers without its segment.
    const optional = /\/:[A-Za-z0-9_]+(?:\(.*\))?\?$/.exec(pattern);
    const patterns = optional === null ? [pattern] : [pattern.slice(0, -1), pattern.slice(0, optional.index) || '/'];
    for (const method of typeof methods === 'string' ? [methods] : methods) {
      const matcher = (this.byMethod[methodIndex(method.toUpperCase())] ??= new RouteMatcher());
      for (const each of patterns) matcher.add(each, template);
    }
  }

  /** The template the request reaches, or undefined (no route: Fastify's not-found). */
  match(method: number, url: string | undefined): string | undefined {
    const matcher = this.byMethod[method];
    if (matcher === undefined) return undefined;
    // The matcher stops at the query string itself: no copy of the path on the plain path.
    if (this.plain) return matcher.match(url ?? '/');
    return matcher.match(this.normalise(pathOf(url)));
  }

  /** A path as the app's router compares it (case, trailing and duplicate slashes, `;` delimiter). */
  normalise(path: string): string {
    if (this.plain) return path;
    let result = path;
    if (this.rules.useSemicolonDelimiter) {
      const semicolon = result.indexOf(';');
      if (semicolon >= 0) result = result.slice(0, semicolon);
    }
    if (this.rules.ignoreDuplicateSlashes) result = result.replace(/\/{2,}/g, '/');
    if (this.rules.ignoreTrailingSlash && result.length > 1 && result.endsWith('/')) result = result.slice(0, -1);
    if (!this.rules.caseSensitive) result = result.toLowerCase();
    return result;
  }
}

/** How many candidate templates {@link templateFromParams} may try for one path. */
const MAX_CANDIDATES = 64;

/**
 * The route template a path matched, given the parameters its router found
 * (in the order they appear in the template) and a check that a template is
 * a route of the app: each parameter's value is put back as `:name` (a `*`
 * parameter as `*`), trying each place the value occurs (latest first, as
 * routers prefer static segments) until the app knows the template. Undefined when none is (a parameter with a pattern, such as
 * `:id(^\\d+)`, cannot be rebuilt from its value).
 *
 * @example
 * ```ts
 * templateFromParams('/users/7/posts/7', { id: '7', post: '7' }, (t) => t === '/users/:id/posts/:post');
 * // '/users/:id/posts/:post'
 * ```
 */
export function templateFromParams(path: string, params: Readonly<Record<string, string | undefined>>, exists: (template: string) => boolean): string | undefined {
  const entries = Object.entries(params).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  let tries = 0;
  const check = (candidate: string): string | undefined => (++tries <= MAX_CANDIDATES && exists(candidate) ? candidate : undefined);
  const search = (from: number, index: number, built: string): string | undefined => {
    if (tries >= MAX_CANDIDATES) return undefined;
    if (index === entries.length) return check(built + path.slice(from));
    const [name, value] = entries[index]!;
    const forms = value === encodeURIComponent(value) ? [value] : [value, encodeURIComponent(value), encodeURI(value)];
    if (name === '*') {
      // The wildcard takes the rest of the path.
      for (const form of forms) {
        if (path.length - form.length >= from && path.endsWith(form)) {
          const found = search(path.length, index + 1, `${built}${path.slice(from, path.length - form.length)}*`);
          if (found !== undefined) return found;
        }
      }
      return undefined;
    }
    for (const form of forms) {
      if (form === '') continue;
      // Latest place first: a router prefers static segments, so of two templates a path
      // could have matched, the one with its parameters further right is the route.
      for (let at = path.lastIndexOf(form); at >= from; at = at === 0 ? -1 : path.lastIndexOf(form, at - 1)) {
        const found = search(at + form.length, index + 1, `${built}${path.slice(from, at)}:${name}`);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return search(0, 0, '');
}
