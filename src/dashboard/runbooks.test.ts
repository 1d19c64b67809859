// The built-in page serves the runbooks lookout provision generates, so an alert's runbook_url can
// point at the API itself.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { close, listen } from '../../test/support/http.js';
import { Registry } from '../core/registry.js';
import { generateRunbooks } from '../provision/runbooks.js';
import { resolveProvisionOptions } from '../provision/options.js';
import { operationsAlertGroup } from '../provision/prometheus/ops-rules.js';
import { createDashboard, type Dashboard } from './dashboard.js';

const servers: http.Server[] = [];
const dashboards: Dashboard[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
  for (const dashboard of dashboards.splice(0)) dashboard.close();
});

async function serve(config: { token?: string; runbooks?: Record<string, string> }): Promise<string> {
  const dashboard = createDashboard({ registry: new Registry(), ...config });
  dashboards.push(dashboard);
  const server = http.createServer((req, res) => (dashboard.owns(req.url) ? void dashboard.handle(req, res) : res.writeHead(404).end()));
  servers.push(server);
  return listen(server);
}

describe('runbooks on the built-in page', () => {
  const options = resolveProvisionOptions({ service: 'inference-api' });
  const runbooks = generateRunbooks(options, [operationsAlertGroup(options)]);

  it('the page links to the index, the index to every runbook, each runbook is its Markdown', async () => {
    const base = await serve({ runbooks });
    const page = await (await fetch(`${base}/lookout`)).text();
    expect(page).toContain('<a class="runbooks" href="/lookout/runbooks">Runbooks</a>');
    const index = await fetch(`${base}/lookout/runbooks`);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await index.text();
    for (const alert of Object.keys(runbooks)) expect(html).toContain(`<a href="/lookout/runbooks/${alert}">${alert}</a>`);
    const one = await fetch(`${base}/lookout/runbooks/KpiStoreDown`);
    expect([one.status, one.headers.get('content-type'), one.headers.get('x-content-type-options')]).toEqual([200, 'text/plain; charset=utf-8', 'nosniff']);
    expect(await one.text()).toBe(runbooks['KpiStoreDown']);
    expect((await fetch(`${base}/lookout/runbooks/Nope`)).status).toBe(404);
  });

  it('without runbooks there is no link and no route; with a token they need it like the data', async () => {
    const plain = await serve({});
    expect(await (await fetch(`${plain}/lookout`)).text()).not.toContain('Runbooks');
    expect((await fetch(`${plain}/lookout/runbooks`)).status).toBe(404);
    const locked = await serve({ token: 'sesame', runbooks });
    expect((await fetch(`${locked}/lookout/runbooks/TargetDown`)).status).toBe(401);
    expect((await fetch(`${locked}/lookout/runbooks/TargetDown`, { headers: { authorization: 'Bearer sesame' } })).status).toBe(200);
  });

  it('refuses a runbook name that is not an alert name', () => {
    expect(() => createDashboard({ registry: new Registry(), runbooks: { '../x': 'y' } })).toThrow('LOOKOUT_E_INVALID_OPTION');
  });
});
