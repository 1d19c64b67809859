import { describe, expect, it } from 'vitest';
import { methodIndex } from '../http/methods.js';
import { FastifyRoutes, fastifyPathRules } from './fastify-routes.js';

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
