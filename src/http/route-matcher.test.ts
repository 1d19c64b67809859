import { describe, expect, it } from 'vitest';
import { RouteMatcher } from './route-matcher.js';

describe('RouteMatcher', () => {
  const matcher = new RouteMatcher(['/users/:id', '/users/me', '/users/:id/posts/:post', '/files/*', '/', '/a-:from-:to']);

  it('prefers static templates, then parameters, then wildcards', () => {
    expect(matcher.match('/users/42')).toBe('/users/:id');
    expect(matcher.match('/users/me')).toBe('/users/me');
    expect(matcher.match('/users/42/posts/7')).toBe('/users/:id/posts/:post');
    expect(matcher.match('/files/a/b/c.txt')).toBe('/files/*');
    expect(matcher.match('/')).toBe('/');
  });

  it('does not match empty parameters, extra segments or trailing slashes', () => {
    expect(matcher.match('/users/')).toBeUndefined();
    expect(matcher.match('/users/42/extra')).toBeUndefined();
    expect(matcher.match('/users/42/')).toBeUndefined();
    expect(matcher.match('nothing')).toBeUndefined();
    expect(matcher.match('/unknown')).toBeUndefined();
  });

  it('treats a segment with several parameters as one', () => {
    expect(matcher.match('/a-x-y')).toBe('/a-:from-:to');
  });

  it('finds static templates of any length, and labels a normalised pattern as written', () => {
    const long = `/${'a'.repeat(300)}`;
    const other = new RouteMatcher([long, '/short']);
    other.add('/mixed/case', '/Mixed/Case');
    expect(other.match(long)).toBe(long);
    expect(other.match(`/${'a'.repeat(299)}`)).toBeUndefined();
    expect(other.match('/short')).toBe('/short');
    expect(other.match('/shore')).toBeUndefined();
    expect(other.match('/mixed/case')).toBe('/Mixed/Case');
  });

  it('agrees with a regular expression of each template on generated paths', () => {
    const templates = ['/users/:id', '/users/me', '/user/:id', '/users/:id/posts', '/users/:id/posts/:post', '/files/*', '/', '/a-:from-:to', '/n/:id(\\d+)', '/usersx'];
    const words = ['users', 'user', 'usersx', 'usersxy', 'me', '42', 'posts', 'postsx', 'files', 'a-x-y', 'a-', 'n', '7x', ''];
    // The same templates as regular expressions, segment by segment.
    const pieces: Record<string, string> = { ':id': '[^/]+', ':post': '[^/]+', ':id(\\d+)': '\\d+', 'a-:from-:to': 'a-[^/]+-[^/]+' };
    const expressions = templates.map((template) => {
      const body = template.split('/').slice(1).map((segment) => pieces[segment] ?? segment).join('/');
      return new RegExp(body.endsWith('*') ? `^/${body.slice(0, -2)}(/.*)?$` : `^/${body}$`);
    });
    let random = 7;
    const next = (bound: number): number => {
      // xorshift32: deterministic, and its low bits are as random as its high ones.
      random ^= random << 13;
      random ^= random >>> 17;
      random ^= random << 5;
      return (random >>> 0) % bound;
    };
    let compared = 0;
    for (let round = 0; round < 5000; round++) {
      const count = next(5);
      let path = '';
      for (let index = 0; index < count; index++) path += `/${words[next(words.length)]}`;
      if (path === '' || next(4) === 0) path += '/';
      templates.forEach((template, index) => {
        const expected = expressions[index]!.test(path);
        expect(new RouteMatcher([template]).match(path) === template, `${template} vs ${path}`).toBe(expected);
        compared++;
      });
    }
    expect(compared).toBe(50000);
  });

  it('takes a URL with its query string and answers as for its path alone', () => {
    const templates = ['/users/:id', '/users/me', '/users/:id/posts', '/users/:id/posts/:post', '/files/*', '/', '/a-:from-:to', '/n/:id(\\d+)', '/static/page', '/users'];
    const both = new RouteMatcher(templates);
    const queries = ['?', '?a=1', '?x=/users/me', '??', '?/'];
    const paths = ['/', '/users', '/users/', '/users/me', '/users/42', '/users/42/posts', '/users/42/posts/7', '/users/42/posts/', '/files', '/files/a/b', '/a-x-y', '/n/7', '/n/7x', '/static/page', '/static', '/nothing', ''];
    let compared = 0;
    for (const path of paths) {
      for (const query of queries) {
        expect(both.match(path + query), `${path}${query}`).toBe(both.match(path));
        compared++;
      }
    }
    expect(compared).toBe(paths.length * queries.length);
    // The static template wins over a parameter with a query string too.
    expect(both.match('/users/me?full=1')).toBe('/users/me');
    expect(both.match('/static/page?x')).toBe('/static/page');
    expect(both.match('/users/42?x')).toBe('/users/:id');
  });
});
