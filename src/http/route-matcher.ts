interface Pattern {
  /** What a match returns (the template as the app wrote it). */
  readonly template: string;
  /** The pattern it was compiled from. */
  readonly source: string;
  /** Each segment after the leading '/' (PARAM, WILDCARD, TEXT to match exactly or PATTERN for mixed segments like `a-:from-:to`), and its text or pattern. */
  readonly kinds: Uint8Array;
  readonly texts: readonly string[];
  readonly patterns: readonly (RegExp | undefined)[];
  readonly specificity: number;
}

const PARAM = 0;
const WILDCARD = 1;
/** Kinds of {@link Pattern.kinds} beyond PARAM and WILDCARD. */
const TEXT = 2;
const PATTERN = 3;
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
    const kinds = Uint8Array.from(segments, (segment) => (typeof segment === 'string' ? TEXT : segment instanceof RegExp ? PATTERN : segment));
    const texts = segments.map((segment) => (typeof segment === 'string' ? segment : ''));
    const patterns = segments.map((segment) => (segment instanceof RegExp ? segment : undefined));
    this.patterns.push({ template: label, source: template, kinds, texts, patterns, specificity });
    this.patterns = [...this.patterns].sort((a, b) => b.specificity - a.specificity || b.kinds.length - a.kinds.length);
  }

  /** The template of `path`, or undefined when no route matches. */
  match(path: string): string | undefined {
    // Map.get hashes the request's new path string first (~40 ns): only worth
    // it when a static template has the path's length.
    if (path.length < 256 ? this.exactLengths[path.length] === 1 : this.longExact) {
      const exact = this.exact.get(path);
      if (exact !== undefined) return exact;
    }
    const patterns = this.patterns;
    for (let index = 0; index < patterns.length; index++) {
      const pattern = patterns[index]!;
      if (matches(pattern, path)) return pattern.template;
    }
    return undefined;
  }

  /** How many templates it knows. */
  get size(): number {
    return this.exact.size + this.patterns.length;
  }
}

/**
 * Whether `path` fits the pattern. Runs for every request: plain character loops over the
 * path (segments are short), no builtin calls and no allocation except for a segment that
 * has its own regular expression.
 */
function matches(pattern: Pattern, path: string): boolean {
  const length = path.length;
  if (length === 0 || path.charCodeAt(0) !== 47) return false;
  const kinds = pattern.kinds;
  let position = 1;
  for (let index = 0; index < kinds.length; index++) {
    const kind = kinds[index];
    if (kind === WILDCARD) return true;
    if (position > length) return false;
    let end = position;
    while (end < length && path.charCodeAt(end) !== 47) end++;
    if (kind === PARAM) {
      if (end === position) return false;
    } else if (kind === TEXT) {
      const text = pattern.texts[index]!;
      if (end - position !== text.length) return false;
      for (let offset = 0; offset < text.length; offset++) {
        if (path.charCodeAt(position + offset) !== text.charCodeAt(offset)) return false;
      }
    } else if (!pattern.patterns[index]!.test(path.slice(position, end))) {
      return false;
    }
    position = end + 1;
  }
  return position === length + 1;
}
