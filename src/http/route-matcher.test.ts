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
});
