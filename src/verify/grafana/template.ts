/**
 * Grafana's front-end template interpolation (templateSrv / scenes `sceneInterpolator`) with the
 * Prometheus and SQL datasource formatters and the explicit `${var:format}` formats.
 * See GRAFANA-QUERIES.md §3.
 */
import { LookoutError } from '../../core/errors.js';

/**
 * The value of a dashboard variable after selection: one string, several, or "All".
 *
 * @example
 * ```ts
 * const route: VariableValue = { name: 'route', multi: true, includeAll: true, allValue: '.*', selected: 'all', options: ['/a', '/b'] };
 * ```
 */
export interface VariableValue {
  readonly name: string;
  readonly multi: boolean;
  readonly includeAll: boolean;
  /** Custom "All" value (inserted raw, never escaped); without it "All" means every option. */
  readonly allValue?: string | undefined;
  /** `'all'` or the selected option values. */
  readonly selected: 'all' | readonly string[];
  /** Every option value (used when "All" has no custom value). */
  readonly options: readonly string[];
}

/**
 * Formats a variable's value for the datasource (the default, when no `:format` is given).
 *
 * @example
 * ```ts
 * const quoteAll: DatasourceFormatter = (value) => (typeof value === 'string' ? `'${value}'` : value.join(','));
 * ```
 */
export type DatasourceFormatter = (value: string | readonly string[], variable: { readonly multi: boolean; readonly includeAll: boolean }) => string;

/**
 * Scoped and built-in variables: `__interval`, `__interval_ms`, `__from`, `__to` (epoch ms).
 *
 * @example
 * ```ts
 * const scoped: ScopedVars = { __interval: '1m', __interval_ms: 60000 };
 * ```
 */
export type ScopedVars = Readonly<Record<string, string | number>>;

// grafana/scenes variableRegex: $var | [[var:fmt]] | ${var.field:fmt}
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/**
 * Prometheus `prometheusRegularEscape` (classic): `\` → `\\`, `'` → `\\'`.
 *
 * @example
 * ```ts
 * prometheusRegularEscape("it's"); // "it\\\\'s"
 * ```
 */
export function prometheusRegularEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
}

/**
 * Prometheus `prometheusSpecialRegexEscape` (classic): `\` → `\\\\`, regex metacharacters get `\\`.
 *
 * @example
 * ```ts
 * prometheusSpecialRegexEscape('web.1'); // 'web\\\\.1'
 * ```
 */
export function prometheusSpecialRegexEscape(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]+?.()|]/g, '\\\\$&');
}

/**
 * The Prometheus datasource's default formatter (`interpolateQueryExpr`).
 *
 * @example
 * ```ts
 * prometheusFormatter(['api', 'web.1'], { multi: true, includeAll: false }); // '(api|web\\\\.1)'
 * ```
 */
export const prometheusFormatter: DatasourceFormatter = (value, variable) => {
  if (!variable.multi && !variable.includeAll) return typeof value === 'string' ? prometheusRegularEscape(value) : value.join(',');
  if (typeof value === 'string') return prometheusSpecialRegexEscape(value);
  const escaped = value.map(prometheusSpecialRegexEscape);
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
};

/**
 * The SQL datasources' default formatter (`SqlDatasource.interpolateVariable`).
 *
 * @example
 * ```ts
 * sqlFormatter(['a', 'b'], { multi: true, includeAll: false }); // "'a','b'"
 * ```
 */
export const sqlFormatter: DatasourceFormatter = (value, variable) => {
  const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
  if (typeof value === 'string') return variable.multi || variable.includeAll ? quote(value) : value.replace(/'/g, "''");
  return value.map(quote).join(',');
};

/**
 * `templateSrv.replace(text, scopedVars, datasourceFormatter)`: substitutes dashboard variables,
 * scoped variables and `$__from`/`$__to` (with `:date` formats); unknown names stay verbatim.
 *
 * @example
 * ```ts
 * interpolate('up{job=~"$job"}[$__rate_interval]', [job], {}, prometheusFormatter); // '$__rate_interval' is left for the back end
 * ```
 */
export function interpolate(text: string, variables: readonly VariableValue[], scoped: ScopedVars, formatter: DatasourceFormatter): string {
  return text.replace(VARIABLE, (match, plain?: string, bracket?: string, bracketFormat?: string, braced?: string, _field?: string, bracedFormat?: string) => {
    const name = plain ?? bracket ?? braced!;
    const format = bracketFormat ?? bracedFormat;
    if (name === '__from' || name === '__to') {
      const ms = scoped[name];
      return ms === undefined ? match : formatTime(Number(ms), format);
    }
    if (name in scoped) {
      const value = scoped[name]!;
      if (typeof value === 'number') return String(value);
      return format === undefined ? formatter(value, { multi: false, includeAll: false }) : applyFormat(value, format);
    }
    const variable = variables.find((candidate) => candidate.name === name);
    if (variable === undefined) return match;
    if (variable.selected === 'all' && variable.allValue !== undefined && variable.allValue !== '') return variable.allValue;
    const values = variable.selected === 'all' ? variable.options : variable.selected;
    const value: string | readonly string[] = values.length === 1 && !variable.multi ? values[0]! : values;
    return format === undefined ? formatter(value, variable) : applyFormat(value, format);
  });
}

function formatTime(ms: number, format: string | undefined): string {
  if (format === undefined) return String(ms);
  const [id, ...args] = format.split(':');
  if (id !== 'date') throw unsupported(`${format} for a time macro`);
  const style = args.join(':');
  if (style === '' || style === 'iso') return new Date(ms).toISOString();
  if (style === 'seconds') return String(Math.round(ms / 1000));
  if (style === 'ms') return String(ms);
  // moment-style patterns format in the browser's time zone: not reproducible here.
  throw unsupported(`date format ${JSON.stringify(style)} (browser-local time)`);
}

const REGEX_SPECIAL = /[\\^$*+?.()|[\]{}/]/g;

function applyFormat(value: string | readonly string[], format: string): string {
  const list = typeof value === 'string' ? [value] : [...value];
  const [id, ...args] = format.split(':');
  switch (id) {
    case 'csv':
    case 'raw':
      return list.join(',');
    case 'pipe':
      return list.join('|');
    case 'regex': {
      const escaped = list.map((item) => item.replace(REGEX_SPECIAL, '\\$&'));
      return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
    }
    case 'sqlstring':
      return list.map((item) => `'${item.replace(/'/g, "''").replace(/"/g, '\\"')}'`).join(',');
    case 'singlequote':
      return list.map((item) => `'${item.replace(/'/g, "\\'")}'`).join(',');
    case 'doublequote':
      return list.map((item) => `"${item.replace(/"/g, '\\"')}"`).join(',');
    case 'json':
      return typeof value === 'string' ? value : JSON.stringify(list);
    case 'glob':
      return list.length === 1 ? list[0]! : `{${list.join(',')}}`;
    case 'text':
      return list.join(' + ');
    case 'percentencode':
      return encodeStrict(typeof value === 'string' ? value : `{${list.join(',')}}`);
    case 'join':
      return list.join(args.join(':') || ',');
    default:
      throw unsupported(`variable format ${JSON.stringify(format)}`);
  }
}

function encodeStrict(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unsupported(what: string): LookoutError {
  return new LookoutError('LOOKOUT_E_VERIFY_UNSUPPORTED', `lookout's Grafana expansion does not support ${what}`);
}
