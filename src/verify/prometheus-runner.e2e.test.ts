// The throw-away Prometheus: starts on a free port, reports its own errors, and leaves nothing behind.
import { access } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { startPrometheus } from './prometheus-runner.js';

const available = await probe('prometheus', () => hasCommand('prometheus', ['--version']));

describe.skipIf(!available)('startPrometheus', () => {
  it('scrapes a target, answers query_range, and stop() ends the process and deletes its data', async () => {
    const server = createServer((_req, res) => res.end('# TYPE demo_total counter\ndemo_total 42\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const prometheus = await startPrometheus({ config: { global: { scrape_interval: '1s', scrape_timeout: '1s' }, scrape_configs: [{ job_name: 'demo', static_configs: [{ targets: [target] }] }] } });
    try {
      expect(prometheus.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await prometheus.waitForTargets({ scrapes: 2 });
      const now = Math.floor(Date.now() / 1000);
      const result = await prometheus.client.queryRange('demo_total', now - 10, now, 1);
      expect(result.series[0]?.metric).toMatchObject({ job: 'demo', instance: target });
      await expect(prometheus.client.queryRange('rate(demo_total[', now - 10, now, 1)).rejects.toThrow(/LOOKOUT_E_VERIFY_PROMETHEUS: bad_data/);
    } finally {
      await prometheus.stop();
      server.close();
    }
    await expect(access(prometheus.dir)).rejects.toThrow();
    await expect(fetch(`${prometheus.url}/-/ready`)).rejects.toThrow();
  });

  it('fails with Prometheus\'s own message when the config is invalid', async () => {
    await expect(startPrometheus({ config: { global: { scrape_interval: 'often' } } })).rejects.toThrow(/LOOKOUT_E_VERIFY_PROMETHEUS: prometheus exited before it was ready:[\s\S]*often/);
  });

  it('says so when the binary is missing', async () => {
    await expect(startPrometheus({ config: {}, binary: '/nonexistent/prometheus' })).rejects.toThrow(/spawn error/);
  });
});
