import { describe, expect, it } from 'vitest';
import { methodIndex } from '../http/methods.js';
import { FastifyRoutes, fastifyPathRules, templateFromParams } from './fastify-routes.js';

const GET = methodIndex('GET');
const POST = methodIndex('POST');
const plain = fastifyPathRules(undefined);

describe('FastifyRoutes', () => {
  it('matches by method, static routes before parameters, ignoring the query string', () => {
    const routes = new FastifyRoutes(plain);
    routes.add(['GET', 'HEAD'], '/users/:id');
    routes.add('GET', '/users/me');
    routes.add('post', '/users');
    expect(routes.match(GET, '/users/7?full=1')).toBe('/users/:id');
    expect(routes.match(GET, '/users/me')).toBe('/users/me');
    expect(routes.match(methodIndex('HEAD'), '/users/7')).toBe('/users/:id');
    expect(routes.match(POST, '/users')).toBe('/users');
    expect(routes.match(POST, '/users/7')).toBeUndefined();
    expect(routes.match(methodIndex('DELETE'), '/users/7')).toBeUndefined();
    expect(routes.match(GET, '/users/7/')).toBeUndefined();
    expect(routes.match(GET, '/Users/7')).toBeUndefined();
  });

  it('follows the router rules and labels with the template as written', () => {
    const routes = new FastifyRoutes({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, caseSensitive: false, useSemicolonDelimiter: true });
    routes.add('GET', '/Api/Items/:id');
    routes.add('GET', '/Health/');
    for (const url of ['/api/items/3', '/API/ITEMS/3/', '//api//items/3', '/api/items/3;jsessionid=1?q']) expect(routes.match(GET, url)).toBe('/Api/Items/:id');
    expect(routes.match(GET, '/health')).toBe('/Health/');
    expect(routes.match(GET, '/api/items')).toBeUndefined();
  });
});

describe('FastifyRoutes parameters', () => {
  it('honours parameter patterns and an optional last parameter', () => {
    const routes = new FastifyRoutes(plain);
    routes.add('GET', '/orders/:id(^\\d+$)');
    routes.add('GET', '/orders/:slug');
    routes.add('GET', '/files/:name?');
    routes.add('GET', '/bad/:x([)');
    expect(routes.match(GET, '/orders/42')).toBe('/orders/:id(^\\d+$)');
    expect(routes.match(GET, '/orders/latest')).toBe('/orders/:slug');
    expect(routes.match(GET, '/files/a.txt')).toBe('/files/:name?');
    expect(routes.match(GET, '/files')).toBe('/files/:name?');
    expect(routes.match(GET, '/bad/anything')).toBe('/bad/:x([)');
  });
});

describe('fastifyPathRules', () => {
  it('reads the top-level options, with routerOptions winning, and defaults like Fastify', () => {
    expect(plain).toEqual({ ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, caseSensitive: true, useSemicolonDelimiter: false });
    expect(fastifyPathRules({ ignoreTrailingSlash: true, caseSensitive: true, routerOptions: { caseSensitive: false } })).toMatchObject({ ignoreTrailingSlash: true, caseSensitive: false });
    expect(fastifyPathRules({ routerOptions: null, caseSensitive: 'yes' })).toMatchObject({ caseSensitive: true });
  });
});

describe('templateFromParams', () => {
  const routes = new Set(['/users/:id', '/users/:id/posts/:post', '/b/:a', '/:a/b', '/files/*', '/v/:from-:to', '/static']);
  const exists = (template: string): boolean => routes.has(template);

  it('puts each parameter back where its value sits, trying each place it occurs', () => {
    expect(templateFromParams('/users/7', { id: '7' }, exists)).toBe('/users/:id');
    expect(templateFromParams('/users/7/posts/7', { id: '7', post: '7' }, exists)).toBe('/users/:id/posts/:post');
    // The value also occurs in a static segment before the parameter.
    expect(templateFromParams('/b/b', { a: 'b' }, exists)).toBe('/b/:a');
    expect(templateFromParams('/b/b', { a: 'b' }, (template) => template === '/:a/b')).toBe('/:a/b');
    expect(templateFromParams('/v/1-2', { from: '1', to: '2' }, exists)).toBe('/v/:from-:to');
  });

  it('handles wildcards, static paths and encoded values', () => {
    expect(templateFromParams('/files/a/b.txt', { '*': 'a/b.txt' }, exists)).toBe('/files/*');
    expect(templateFromParams('/files/', { '*': '' }, exists)).toBe('/files/*');
    expect(templateFromParams('/static', {}, exists)).toBe('/static');
    expect(templateFromParams('/users/a%20b', { id: 'a b' }, exists)).toBe('/users/:id');
  });

  it('gives up (undefined) when no candidate is a route, within a bounded number of tries', () => {
    let calls = 0;
    const never = (): boolean => {
      calls++;
      return false;
    };
    expect(templateFromParams('/x/1', { id: '1' }, never)).toBeUndefined();
    expect(templateFromParams(`/${'1/'.repeat(40)}`, { a: '1', b: '1', c: '1' }, never)).toBeUndefined();
    expect(calls).toBeLessThanOrEqual(65);
  });
});
