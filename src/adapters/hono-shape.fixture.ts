// Run by hono-shape.test.ts with --allow-natives-syntax: prints whether `instrument` left the app's properties fast.
import { Hono } from 'hono';
import { Registry } from '../core/registry.js';
import { instrument } from './hono.js';

const hasFastProperties = new Function('object', 'return %HasFastProperties(object)') as (object: object) => boolean;
const app = new Hono();
app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));
const before = hasFastProperties(app);
instrument(app, { registry: new Registry() });
app.onError((error, c) => c.text(error.message, 500));
console.log(JSON.stringify({ before, after: hasFastProperties(app) }));
