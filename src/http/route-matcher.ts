interface Pattern {
  /** What a match returns (the template as the app wrote it). */
  readonly template: string;
  /** The pattern it was compiled from. */
  readonly source: string;
  /** Segments after the leading '/': a string to match exactly, PARAM, WILDCARD, or a pattern for mixed segments (`a-:from-:to`). */
  readonly segments: readonly Segment[];
  readonly specificity: number;
}

const SLASH = 47;
const QUERY = 63;
const PARAM = 0;
const WILDCARD = 1;
type Segment = string | typeof PARAM | typeof WILDCARD | RegExp;

function compileSegment(segment: string): Segment {
  if (segment === '*' || segment.startsWith('*')) return WILDCARD;
  if (!segment.includes(':')) return segment;
  const param = /^:[A-Za-z0-9_]+(?:\((.*)\))?\??$/.exec(segment);
  if (param !== null) return param[1] === undefined ? PARAM : parameterPattern(param[1]);
  // Static text around parameters: '-:' splits, each parameter matches one or more characters.
  const pattern = segment
    .split(/:[A-Za-z0-9_]+(?:\([^)]*\))?/)
    .map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('(.+?)');
  return new RegExp(`^${pattern}$`);
}

/** A parameter with its own pattern (`:id(\\d+)`) matches what the pattern matches; one JavaScript cannot compile matches any value. */
function parameterPattern(source: string): Segment {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    return PARAM;
  }
}

/**
 * Maps a concrete path (`/users/42`) to its route template (`/users/:id`)
 * without allocating per request. Static templates win over parameters,
 * parameters over wildcards. Understands `:name` segments (also `:a-:b` as one
 * parameter segment, and `:id(\\d+)`, which matches only what its pattern
 * matches) and a trailing `*`.
 *
 * @example
 * ```ts
 * const matcher = new RouteMatcher(['/users/:id', '/users/me']);
 * matcher.match('/users/42'); // '/users/:id'
 * matcher.match('/users/me'); // '/users/me'
 * ```
 */
export class RouteMatcher {
  private readonly exact = new Map<string, string>();
  /** Which path lengths (up to 255) some static template has: most paths skip the Map. */
  private readonly exactLengths = new Uint8Array(256);
  private longExact = false;
  private patterns: Pattern[] = [];

  constructor(templates: Iterable<string> = []) {
    for (const template of templates) this.add(template);
  }

  /**
   * Adds a route template. `label` is what a match returns when it differs
   * from the pattern (a normalised pattern for a router that ignores case
   * or trailing slashes, labelled with the template as written).
   */
  add(template: string, label: string = template): void {
    const raw = template.split('/').slice(1);
    const segments = raw.map(compileSegment);
    if (segments.every((segment) => typeof segment === 'string')) {
      if (!this.exact.has(template)) this.exact.set(template, label);
      if (template.length < 256) this.exactLengths[template.length] = 1;
      else this.longExact = true;
      return;
    }
    // More static segments first, then fewer wildcards: '/users/me/:x' before '/users/:id/:x'.
    const specificity = segments.reduce<number>((score, segment) => score * 4 + (typeof segment === 'string' ? 3 : segment === PARAM ? 1 : segment === WILDCARD ? 0 : 2), 0);
    if (this.patterns.some((pattern) => pattern.source === template)) return;
    this.patterns.push({ template: label, source: template, segments, specificity });
    this.patterns = [...this.patterns].sort((a, b) => b.specificity - a.specificity || b.segments.length - a.segments.length);
  }

  /**
   * The template of `url`, or undefined when no route matches. A query string
   * (`?` and after) is not part of the path: the request's URL can be passed as
   * it is, which spares a search for `?` and a copy of the path (about a fifth
   * of a match) on the common path, a parameter route.
   */
  match(url: string): string | undefined {
    // The URL as a whole first: a static path without a query string.
    const exact = this.exactOf(url, url.length);
    if (exact !== undefined) return exact;
    const patterns = this.patterns;
    for (let index = 0; index < patterns.length; index++) {
      const pattern = patterns[index]!;
      const end = pathEnd(pattern.segments, url);
      if (end < 0) continue;
      // With a query string, a static template of the same path still wins.
      return end === url.length ? pattern.template : (this.exactOf(url, end) ?? pattern.template);
    }
    const query = url.indexOf('?');
    return query < 0 ? undefined : this.exactOf(url, query);
  }

  /**
   * The static template of the path `url` has before `end` (its length, or its
   * query string), if any. Map.get hashes the request's new string first
   * (~40 ns): only worth it when a static template has the path's length.
   */
  private exactOf(url: string, end: number): string | undefined {
    if (end < 256 ? this.exactLengths[end] !== 1 : !this.longExact) return undefined;
    return this.exact.get(end === url.length ? url : url.slice(0, end));
  }

  /** How many templates it knows. */
  get size(): number {
    return this.exact.size + this.patterns.length;
  }
}

/**
 * Where the path of `url` ends (its length, or the index of its `?`) when the
 * path matches `segments`; -1 otherwise. Segment by segment, by character
 * codes: a static segment compared with `startsWith` cost more than the few
 * characters it compares (a match ~62 → ~43 ns in a loop); the end of a
 * parameter segment is found by the same walk, and so is the query string.
 */
function pathEnd(segments: Pattern['segments'], url: string): number {
  const length = url.length;
  if (length === 0 || url.charCodeAt(0) !== SLASH) return -1;
  let position = 1;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    if (segment === WILDCARD) {
      const query = url.indexOf('?', position - 1);
      return query < 0 ? length : query;
    }
    if (position > length) return -1;
    if (typeof segment === 'string') {
      const end = position + segment.length;
      if (end > length) return -1;
      for (let at = 0; at < segment.length; at++) {
        if (url.charCodeAt(position + at) !== segment.charCodeAt(at)) return -1;
      }
      if (end < length) {
        const next = url.charCodeAt(end);
        if (next === QUERY) return lastBefore(segments, index) ? end : -1;
        if (next !== SLASH) return -1;
      }
      position = end + 1;
      continue;
    }
    let end = position;
    let code = 0;
    while (end < length && (code = url.charCodeAt(end)) !== SLASH && code !== QUERY) end++;
    if (segment === PARAM) {
      if (end === position) return -1;
    } else if (!segment.test(url.slice(position, end))) {
      return -1;
    }
    if (end < length && code === QUERY) return lastBefore(segments, index) ? end : -1;
    position = end + 1;
  }
  return position === length + 1 ? length : -1;
}

/** True when no segment after `index` needs a character (none, or only a trailing wildcard). */
function lastBefore(segments: Pattern['segments'], index: number): boolean {
  return index === segments.length - 1 || (index === segments.length - 2 && segments[index + 1] === WILDCARD);
}
