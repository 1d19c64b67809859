// Every alert in the committed rule files has a runbook, a runbook_url and a dashboard link that
// resolves to a real panel of the committed dashboards.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { resolveProvisionOptions } from './options.js';
import { resolvePanel, runbookSpec } from './runbooks.js';

const DEPLOY = join(import.meta.dirname, '../../deploy');
const TITLES: Record<string, string> = { 'API overview': 'api-overview', Runtime: 'runtime', 'Inference KPIs': 'inference-kpis' };

interface Rule { alert?: string; annotations?: Record<string, string>; labels?: Record<string, string> }

describe('runbooks and dashboard links of the committed alerts', async () => {
  const dashboards = new Map<string, { uid: string; panels: { id: number; title: string; type: string }[] }>();
  for (const service of await readdir(join(DEPLOY, 'grafana/dashboards'))) {
    for (const file of await readdir(join(DEPLOY, 'grafana/dashboards', service))) {
      const json = JSON.parse(await readFile(join(DEPLOY, 'grafana/dashboards', service, file), 'utf8')) as { uid: string; panels: { id: number; title: string; type: string }[] };
      dashboards.set(json.uid, json);
    }
  }
  const alerts: Rule[] = [];
  for (const file of await readdir(join(DEPLOY, 'prometheus/rules'))) {
    const groups = (parse(await readFile(join(DEPLOY, 'prometheus/rules', file), 'utf8')) as { groups: { rules: Rule[] }[] }).groups;
    alerts.push(...groups.flatMap((group) => group.rules).filter((rule) => rule.alert !== undefined));
  }
  const runbooks = new Set(await readdir(join(DEPLOY, 'runbooks')));

  it('finds the alerts (15: 8 burn-rate, 7 operations)', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(15);
  });

  it.each(alerts.map((rule) => [rule.alert!, rule] as const))('%s: summary, description, runbook and a dashboard link to a real panel', async (alert, rule) => {
    const annotations = rule.annotations ?? {};
    expect(annotations['summary']?.length ?? 0).toBeGreaterThan(10);
    expect(annotations['description']?.length ?? 0).toBeGreaterThan(30);
    expect(['page', 'ticket']).toContain(rule.labels?.['severity']);
    expect(annotations['runbook_url']).toMatch(new RegExp(`/${alert}$`));
    expect(runbooks.has(`${alert}.md`), `deploy/runbooks/${alert}.md`).toBe(true);
    const link = new URL(annotations['dashboard']!);
    const uid = link.pathname.match(/^\/d\/([^/]+)$/)?.[1];
    const dashboard = dashboards.get(uid ?? '');
    expect(dashboard, `dashboard uid ${uid}`).toBeDefined();
    const panel = dashboard!.panels.find((candidate) => candidate.id === Number(link.searchParams.get('viewPanel')));
    expect(panel, `panel ${link.searchParams.get('viewPanel')} of ${uid}`).toBeDefined();
    expect(panel!.type).not.toBe('row');
    expect(panel!.title).toBe(runbookSpec(alert)!.panel);
    // Every panel a runbook names ("Title" (Dashboard)) exists too.
    const text = await readFile(join(DEPLOY, 'runbooks', `${alert}.md`), 'utf8');
    expect(text).toContain('## First three things to check\n\n1. ');
    expect(text).toContain('amtool silence add');
    // Alert templates are read as text there: <instance>, <value>, never a raw {{ ... }}.
    expect(text.replace(/```[\s\S]*?```/g, '')).not.toContain('{{');
    for (const [, title, board] of text.matchAll(/"([^"]+)" \((API overview|Runtime|Inference KPIs)\)/g)) {
      const uidOf = [...dashboards.keys()].find((key) => key.endsWith(TITLES[board!]!))!;
      expect(dashboards.get(uidOf)!.panels.some((candidate) => candidate.title === title), `${alert}: panel "${title}" on ${board}`).toBe(true);
    }
  });

  it('resolvePanel refuses a panel that does not exist', () => {
    expect(() => resolvePanel(resolveProvisionOptions(), 'runtime', 'No such panel')).toThrow('no panel "No such panel" in the generated runtime dashboard');
  });
});
