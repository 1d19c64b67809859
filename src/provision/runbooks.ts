import { apiOverviewDashboard } from './dashboards/api-overview.js';
import { dashboardContext } from './dashboards/common.js';
import { inferenceKpisDashboard } from './dashboards/inference-kpis.js';
import { modelQualityDashboard } from './dashboards/model-quality.js';
import { runtimeDashboard } from './dashboards/runtime.js';
import type { ResolvedProvisionOptions } from './options.js';
import { GENERATED_NOTICE } from './yaml.js';

/**
 * The generated dashboards an alert can link to.
 *
 * @example
 * ```ts
 * const board: RunbookDashboard = 'runtime';
 * ```
 */
export type RunbookDashboard = 'apiOverview' | 'inferenceKpis' | 'runtime' | 'modelQuality';

/**
 * What a runbook says about one alert (or a family of alerts): what it means, the dashboard panel
 * that shows it, and the first three things to check, each naming a panel, a query or SQL.
 *
 * @example
 * ```ts
 * const spec: RunbookSpec = { dashboard: 'runtime', panel: 'Uptime', meaning: '...', checks: ['...', '...', '...'] };
 * ```
 */
export interface RunbookSpec {
  readonly dashboard: RunbookDashboard;
  /** Title of the panel the `dashboard` link opens (resolved to its id; an unknown title throws). */
  readonly panel: string;
  readonly meaning: string;
  readonly checks: readonly [string, string, string];
}

// The shapes of prometheus/slo-rules.ts's PrometheusRule and RuleGroup, restated so that the rule
// generators can import this module without an import cycle.
interface AlertRule {
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

interface AlertGroup<Rule extends AlertRule> {
  readonly name: string;
  readonly rules: readonly Rule[];
}

const EVENTS_SQL = "SELECT event, count(*) FROM events WHERE creation_time > now() - interval '15 minutes' GROUP BY event ORDER BY 2 DESC;";

function burnRunbook(slo: 'availability' | 'latency'): RunbookSpec {
  const availability = slo === 'availability';
  return {
    dashboard: 'apiOverview',
    panel: availability ? 'Availability burn rate' : 'Latency burn rate',
    meaning: availability
      ? 'Requests answered with a 5xx status are spending the availability error budget faster than the SLO allows, over both a long and a short window (so the problem is still happening).'
      : 'Requests slower than the latency threshold are spending the latency error budget faster than the SLO allows, over both a long and a short window (so the problem is still happening).',
    checks: availability
      ? [
          'Panel "Error ratio (5xx) by route" (API overview): which route fails; one route points at its handler or dependency, all routes at the process or a shared dependency.',
          'Panel "Exceptions by type" (API overview): the exception behind the 5xx; then the application logs for that type.',
          'Panel "Responses by status code" and a recent deploy or config change: roll back if the errors began with it.',
        ]
      : [
          'Panel "Latency p95 by route" (API overview): which route is slow; one route points at its handler or dependency.',
          'Panel "Event-loop lag" (Runtime): a blocked event loop slows every route at once; then "CPU" and "Garbage collection time".',
          'Panel "Requests in flight" (API overview) and "Database pool" (Runtime): requests piling up behind a slow or hung dependency.',
        ],
  };
}

/**
 * The runbook of every generated alert, by alert name (burn-rate alerts share one per SLO).
 *
 * @example
 * ```ts
 * runbookSpec('TargetDown')?.panel; // 'Uptime'
 * ```
 */
export function runbookSpec(alert: string): RunbookSpec | undefined {
  if (alert.startsWith('AvailabilityErrorBudgetBurn')) return burnRunbook('availability');
  if (alert.startsWith('LatencyErrorBudgetBurn')) return burnRunbook('latency');
  return Object.hasOwn(OPERATIONS_RUNBOOKS, alert) ? OPERATIONS_RUNBOOKS[alert] : undefined;
}

const OPERATIONS_RUNBOOKS: Readonly<Record<string, RunbookSpec>> = {
  TargetDown: {
    dashboard: 'runtime',
    panel: 'Uptime',
    meaning: 'Prometheus cannot scrape the instance: the process is down, unreachable from Prometheus, or /metrics rejects the bearer token. Every other alert of this instance is inhibited while this one fires.',
    checks: [
      'Prometheus targets page (Status → Targets): the scrape error says refused (process down), timeout (hung or overloaded) or 401 (token).',
      'Panel "Uptime" (Runtime): a reset to 0 means the process restarted; check the orchestrator for crash loops and OOM kills.',
      'Panel "Memory" (Runtime) before the gap: a heap growing without bound ends in an out-of-memory kill.',
    ],
  },
  KpiEventsDropped: {
    dashboard: 'runtime',
    panel: 'KPI events written, dropped and failed flushes',
    meaning: 'KPI events were dropped (reason in the label): the buffer was full because the store could not keep up or was unreachable. KPI dashboards under-count for this period.',
    checks: [
      'Panel "KPI store reachable" (Runtime): 0 means PostgreSQL is unreachable; fix the store first.',
      'Panel "KPI flush duration p50 / p95" (Runtime): slow flushes mean a slow or locked events table.',
      `SQL on the KPI store, to see what still arrives: ${EVENTS_SQL}`,
    ],
  },
  KpiFlushStale: {
    dashboard: 'runtime',
    panel: 'Since last KPI flush',
    meaning: 'Events are waiting but no batch has reached PostgreSQL for over 5 minutes; the buffer fills and events will be dropped.',
    checks: [
      'Panel "KPI store reachable" (Runtime) and the application logs for flush errors.',
      'Panel "KPI queue depth" (Runtime): a growing queue confirms nothing leaves.',
      `SQL on the KPI store: ${EVENTS_SQL} (the newest creation_time is the last flush that landed)`,
    ],
  },
  KpiStoreDown: {
    dashboard: 'runtime',
    panel: 'KPI store reachable',
    meaning: 'The API cannot reach its KPI event store (lookout_kpi_store_up is 0): events are buffered in memory and dropped once the buffer is full. Requests are still served.',
    checks: [
      'pg_isready -h <host> -p <port> from the API host: is PostgreSQL up and reachable (network, DNS, TLS, max_connections)?',
      'Panel "Database pool" (Runtime): connections stuck waiting point at a saturated or locked database.',
      'Panel "KPI queue depth" (Runtime): how long until the buffer is full and events are dropped.',
    ],
  },
  EventLoopBlocked: {
    dashboard: 'runtime',
    panel: 'Event-loop lag',
    meaning: 'The event loop has been held for long stretches (p99 lag above the threshold for 5 minutes): synchronous work delays every request, timer and health check of this process.',
    checks: [
      'Panel "Event-loop utilization" (Runtime): near 1 means the loop never idles (CPU-bound handlers); low with high lag means a few long blocks.',
      'Panel "CPU" and "Garbage collection time" (Runtime): long GC pauses from a big heap look like blocking.',
      'Panel "Latency p95 by route" (API overview): the route whose latency rose first is the usual culprit; profile it with node --cpu-prof.',
    ],
  },
  MemoryGrowing: {
    dashboard: 'runtime',
    panel: 'Memory',
    meaning:
      'At its trend of the last 30 minutes the resident memory more than doubles within the hour: a fast leak (buffers, caches or listeners kept), or a backlog growing (queued jobs, buffered KPI events). It measures growth against the memory itself, so a slow leak never raises it and a steady one stops raising it once the memory is large: HeapLimitApproaching and MemoryLimitApproaching compare the trend with the limits instead.',
    checks: [
      'Panel "Memory" (Runtime): heap used growing means JavaScript objects are kept; RSS growing with a flat heap means buffers or native memory.',
      'Panel "KPI queue depth" (Runtime): KPI events buffered while the store is down also grow the memory.',
      'A heap snapshot of the instance (node --heapsnapshot-signal=SIGUSR2), two of them minutes apart, compared in Chrome DevTools.',
    ],
  },
  HeapLimitApproaching: {
    dashboard: 'runtime',
    panel: 'Memory used of its limit',
    meaning:
      'At its trend of the last 6 hours the V8 heap used reaches the heap limit (nodejs_heap_size_limit_bytes, set by --max-old-space-size or derived from the memory of the machine or container) within 24 hours: JavaScript objects are kept and never collected. Past the limit the process ends with "JavaScript heap out of memory", however slow the leak.',
    checks: [
      'Panel "Memory used of its limit" (Runtime): a heap line climbing steadily since the start, on every instance (code) or on one (its traffic, a tenant, a stuck job); a step after a deploy dates the leak.',
      'Panel "Memory" (Runtime): heap used rising while heap total keeps pace means live objects, not fragmentation; `nodejs_heap_space_size_used_bytes{space="old"}` holds what survives.',
      'Two heap snapshots of the instance hours apart (node --heapsnapshot-signal=SIGUSR2, then kill -USR2 <pid>), compared in Chrome DevTools (Comparison view): the constructor whose count keeps growing is the leak; a restart buys time, not a fix.',
    ],
  },
  MemoryLimitApproaching: {
    dashboard: 'runtime',
    panel: 'Memory used of its limit',
    meaning:
      "At its trend of the last 6 hours the resident memory reaches the memory limit of the process (process_memory_limit_bytes: its container's cgroup limit, or the machine's memory without one) within 24 hours. Past the limit the kernel kills the process (OOMKilled in Kubernetes), however slow the leak. The cgroup also counts page cache and any other process of the container, so the kill may come earlier.",
    checks: [
      'Panel "Memory used of its limit" (Runtime): the resident line climbing while the heap line stays flat means memory outside the V8 heap (Buffers, native addons, the allocator holding freed pages).',
      'Panel "Memory" (Runtime): "external" growing means Buffers or ArrayBuffers kept (sockets, streams not consumed, response bodies cached); heap growing as well means JavaScript objects (see HeapLimitApproaching).',
      'Panel "KPI queue depth" (Runtime): KPI events buffered while the store is down also grow the memory; otherwise heap snapshots hours apart (node --heapsnapshot-signal=SIGUSR2), and for native memory a larger limit only as a stop-gap.',
    ],
  },
  ModelDriftSustained: {
    dashboard: 'modelQuality',
    panel: 'Feature drift (PSI) by feature',
    meaning: 'The inputs or the predictions of the served model version have moved away from its reference (the data it was fitted on) for a sustained time: accuracy usually falls next, before the late labelled feedback shows it.',
    checks: [
      'Panel "Feature drift (PSI) by feature" and "Prediction drift (class mix, confidence)" (Model quality): which feature or prediction moved; confidence drifting alone points at inputs the model has not seen.',
      'Panel "Prediction mix by class" (Model quality): a class taking over or vanishing; then the clients sending the traffic (a new client, a changed upstream encoding or unit).',
      'Panel "Labelled accuracy by version (5 min)" (Model quality): whether the feedback already shows the fall; if the shift is real and lasting, retrain on recent data and publish a new version with its reference.',
    ],
  },
  ModelVersionWorse: {
    dashboard: 'modelQuality',
    panel: 'Labelled accuracy by version (5 min)',
    meaning: 'The served model version has been less accurate on labelled feedback over 30 minutes than the version it replaced (model_version_info{previous_version}) over 6 hours, by more than the margin: the new version is worse, or the traffic changed under it.',
    checks: [
      'Panel "Labelled accuracy by version (5 min)" (Model quality): did the fall begin when this version was published? Then roll back to the previous version.',
      'Panel "Feature drift (PSI) by feature" (Model quality): drift at the same time points at the traffic, not the version.',
      'Panel "Accuracy by model version (events)" (Model quality, PostgreSQL): the same from the KPI feedback rows, per version over the range.',
    ],
  },
  MetricSeriesOverflow: {
    dashboard: 'runtime',
    panel: 'Series folded into overflow',
    meaning: 'A metric reached its series cap and new label sets are folded into its overflow series: a label carries unbounded values (raw URLs, ids, user input).',
    checks: [
      'Panel "Series folded into overflow" (Runtime): which metric overflows.',
      'curl -s <instance>/metrics | grep <metric> | head: which label takes new values; route templates, not raw paths, belong in labels.',
      'Panel "Request rate by route" (API overview): a new route or client flooding with unique paths.',
    ],
  },
};

interface ResolvedPanel {
  readonly uid: string;
  readonly id: number;
  readonly title: string;
}

const panelCache = new WeakMap<ResolvedProvisionOptions, Map<string, ResolvedPanel>>();

/**
 * The uid and panel id of a panel of the generated dashboards, by dashboard and title; throws when
 * there is no such panel (so an alert never links to a panel that does not exist).
 *
 * @example
 * ```ts
 * resolvePanel(options, 'runtime', 'Uptime'); // { uid: 'inference-api-runtime', id: 1, title: 'Uptime' }
 * ```
 */
export function resolvePanel(options: ResolvedProvisionOptions, dashboard: RunbookDashboard, title: string): ResolvedPanel {
  let panels = panelCache.get(options);
  if (panels === undefined) {
    panels = new Map();
    const context = dashboardContext(options);
    const boards = { apiOverview: apiOverviewDashboard(context), inferenceKpis: inferenceKpisDashboard(context), runtime: runtimeDashboard(context), modelQuality: modelQualityDashboard(context) };
    for (const [key, board] of Object.entries(boards)) {
      const json = JSON.parse(JSON.stringify(board)) as { uid: string; panels: { id: number; title: string; type: string }[] };
      for (const panel of json.panels) if (panel.type !== 'row') panels.set(`${key}/${panel.title}`, { uid: json.uid, id: panel.id, title: panel.title });
    }
    panelCache.set(options, panels);
  }
  const panel = panels.get(`${dashboard}/${title}`);
  if (panel === undefined) throw new Error(`no panel "${title}" in the generated ${dashboard} dashboard`);
  return panel;
}

/**
 * The `runbook_url` and `dashboard` annotations of an alert; throws when the alert has no runbook.
 *
 * @example
 * ```ts
 * alertLinks(options, 'TargetDown').dashboard; // 'http://localhost:3000/d/inference-api-runtime?viewPanel=1&var-job=inference-api'
 * ```
 */
export function alertLinks(options: ResolvedProvisionOptions, alert: string): { runbook_url: string; dashboard: string } {
  const spec = runbookSpec(alert);
  if (spec === undefined) throw new Error(`alert ${alert} has no runbook: add one to src/provision/runbooks.ts`);
  const panel = resolvePanel(options, spec.dashboard, spec.panel);
  const grafana = options.alerting?.grafanaUrl ?? 'http://localhost:3000';
  return {
    runbook_url: `${runbookBaseUrl(options)}/${alert}`,
    dashboard: `${grafana}/d/${panel.uid}?viewPanel=${panel.id}&var-job=${encodeURIComponent(options.service)}`,
  };
}

/**
 * Where the runbooks are served: `alerting.runbookBaseUrl`, else the reference API's built-in page
 * (`/lookout/runbooks/<alert>`, see the dashboard's `runbooks` option).
 *
 * @example
 * ```ts
 * runbookBaseUrl(resolveProvisionOptions()); // 'http://localhost:8000/lookout/runbooks'
 * ```
 */
export function runbookBaseUrl(options: ResolvedProvisionOptions): string {
  return options.alerting?.runbookBaseUrl ?? `http://localhost:${options.compose.apiPort}/lookout/runbooks`;
}

/**
 * Adds `runbook_url` and `dashboard` to every alert of the groups (recording rules pass unchanged).
 *
 * @example
 * ```ts
 * const group = withAlertLinks(options, operationsAlertGroup(options));
 * ```
 */
export function withAlertLinks<Rule extends AlertRule, Group extends AlertGroup<Rule>>(options: ResolvedProvisionOptions, group: Group): Group {
  return {
    ...group,
    rules: group.rules.map((rule) => (rule.alert === undefined ? rule : { ...rule, annotations: { ...rule.annotations, ...alertLinks(options, rule.alert) } })),
  };
}

/**
 * The runbook of one alert as Markdown: what it means, the query behind it, the first three things
 * to check, and how to silence it.
 *
 * @example
 * ```ts
 * const text = runbookMarkdown(options, rule);
 * ```
 */
export function runbookMarkdown(options: ResolvedProvisionOptions, rule: AlertRule): string {
  const alert = rule.alert!;
  const spec = runbookSpec(alert);
  if (spec === undefined) throw new Error(`alert ${alert} has no runbook: add one to src/provision/runbooks.ts`);
  const links = alertLinks(options, alert);
  const severity = rule.labels?.['severity'] ?? 'none';
  const labels = Object.entries(rule.labels ?? {}).map(([name, value]) => `${name}="${value}"`);
  return `<!-- ${GENERATED_NOTICE} -->
# ${alert}

**Severity:** ${severity}${rule.for === undefined ? '' : ` · fires after the condition holds for ${rule.for}`} · labels: ${labels.length > 0 ? `\`${labels.join(', ')}\`` : 'none'}

${fillLabels(options, rule.annotations?.['summary'] ?? '')}

## What it means

${spec.meaning}

${fillLabels(options, rule.annotations?.['description'] ?? '')}

## The query behind it

\`\`\`promql
${rule.expr}
\`\`\`

## Dashboard

Panel "${spec.panel}": ${links.dashboard}

## First three things to check

${spec.checks.map((check, index) => `${index + 1}. ${check}`).join('\n')}

## Silence it

While you work on it (2 hours, with a reason):

\`\`\`sh
amtool silence add alertname=${alert} job=${options.service} --duration=2h --comment="<who>: <why>" --alertmanager.url=http://127.0.0.1:9093
\`\`\`

Expire it when done: \`amtool silence query alertname=${alert}\`, then \`amtool silence expire <id>\`.
`;
}

// Templates read as text: the job is known, other labels and the alert's value are placeholders.
function fillLabels(options: ResolvedProvisionOptions, template: string): string {
  return template
    .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => (name === 'job' ? options.service : `<${name}>`))
    .replace(/\{\{ \$value[^}]*\}\}/g, '<value>');
}

/**
 * Every runbook of the given groups' alerts, by alert name, as Markdown.
 *
 * @example
 * ```ts
 * Object.keys(generateRunbooks(options, groups)); // ['AvailabilityErrorBudgetBurn1h5m', ..., 'TargetDown', ...]
 * ```
 */
export function generateRunbooks(options: ResolvedProvisionOptions, groups: readonly AlertGroup<AlertRule>[]): Record<string, string> {
  const runbooks: Record<string, string> = {};
  for (const group of groups) for (const rule of group.rules) if (rule.alert !== undefined) runbooks[rule.alert] = runbookMarkdown(options, rule);
  return runbooks;
}
