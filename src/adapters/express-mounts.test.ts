import express from 'express';
import express4 from 'express4';
import { describe, expect, it } from 'vitest';
import { ExpressMounts } from './express-mounts.js';

const noop = (): void => undefined;

/** Both versions through the one shape this test uses (their typings differ in detail). */
type Make = typeof express;
const versions: [string, Make][] = [['Express 5', express], ['Express 4', express4 as unknown as Make]];

describe.each(versions)('ExpressMounts on %s', (_name, make) => {
  const build = () => {
    const app = make();
    const comments = make.Router();
    comments.get('/:commentId', noop);
    const posts = make.Router();
    posts.use('/:postId/comments', comments);
    app.use('/users/:userId/posts', posts);
    app.use('/api/v1', make.Router());
    return app;
  };

  it('gives mount paths their templates, parameters put back, without mergeParams', () => {
    const mounts = new ExpressMounts();
    const app = build();
    expect(mounts.template(app, '/users/7/posts')).toBe('/users/:userId/posts');
    expect(mounts.template(app, '/users/7/posts/9/comments')).toBe('/users/:userId/posts/:postId/comments');
    expect(mounts.template(app, '/users/a%20b/posts')).toBe('/users/:userId/posts');
  });

  it('keeps static mount paths as they are', () => {
    const mounts = new ExpressMounts();
    expect(mounts.template(build(), '/api/v1')).toBe('/api/v1');
    expect(mounts.template({}, '/elsewhere')).toBe('/elsewhere');
  });
});
