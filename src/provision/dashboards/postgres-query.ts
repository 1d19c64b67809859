import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/**
 * Grafana SQL result formats.
 *
 * @example
 * ```ts
 * new PostgresQueryBuilder('SELECT 1').format('table' satisfies PostgresFormat);
 * ```
 */
export type PostgresFormat = 'time_series' | 'table';

/**
 * A Grafana PostgreSQL target as stored in dashboard JSON. The foundation SDK ships no builder for
 * the core SQL datasources, so this is the SDK's documented custom-query pattern.
 *
 * @example
 * ```ts
 * const query: PostgresQuery = new PostgresQueryBuilder('SELECT 1').refId('A').build();
 * ```
 */
export interface PostgresQuery {
  refId?: string;
  hide?: boolean;
  datasource?: DataSourceRef;
  editorMode: 'code';
  format: PostgresFormat;
  rawQuery: true;
  rawSql: string;
  _implementsDataqueryVariant(): void;
}

/**
 * Builder for {@link PostgresQuery}.
 *
 * @example
 * ```ts
 * new PostgresQueryBuilder('SELECT $__time(creation_time), value FROM events WHERE $__timeFilter(creation_time)')
 *   .refId('A').format('time_series');
 * ```
 */
export class PostgresQueryBuilder implements Builder<Dataquery> {
  private readonly internal: PostgresQuery;

  constructor(rawSql: string) {
    this.internal = { editorMode: 'code', format: 'table', rawQuery: true, rawSql, _implementsDataqueryVariant() {} };
  }

  build(): PostgresQuery {
    return this.internal;
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  datasource(datasource: DataSourceRef): this {
    this.internal.datasource = datasource;
    return this;
  }

  format(format: PostgresFormat): this {
    this.internal.format = format;
    return this;
  }
}
