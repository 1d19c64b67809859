import { describe, expect, it } from 'vitest';
import { describeTarget, resolvePgConfig } from './pg-config.js';
import { defaultStore } from './default-store.js';

describe('resolvePgConfig: explicit > DATABASE_URL > PG* > default', () => {
  const env = { DATABASE_URL: 'postgres://env@db:5433/app', PGHOST: 'pghost' };

  it('prefers an explicit URL or explicit fields', () => {
    expect(resolvePgConfig({ connectionString: 'postgres://x@y/z' }, env)).toEqual({ config: { connectionString: 'postgres://x@y/z' }, source: 'explicit' });
    expect(resolvePgConfig({ host: '127.0.0.1', port: 5432 }, env)).toEqual({ config: { host: '127.0.0.1', port: 5432 }, source: 'explicit' });
  });

  it('then DATABASE_URL, then the PG* variables, then the defaults', () => {
    expect(resolvePgConfig({}, env)).toEqual({ config: { connectionString: env.DATABASE_URL }, source: 'DATABASE_URL' });
    expect(resolvePgConfig({}, { PGHOST: 'pghost' })).toEqual({ config: {}, source: 'PG environment' });
    expect(resolvePgConfig({}, {})).toEqual({ config: {}, source: 'default' });
  });

  it('describes the target without credentials', () => {
    expect(describeTarget({ connectionString: 'postgres://u:secret@db:5433/app' })).toBe('db:5433/app');
    expect(describeTarget({}, { PGHOST: 'h', PGDATABASE: 'd' })).toBe('h:5432/d');
  });
});

describe('defaultStore', () => {
  it('is PostgreSQL with DATABASE_URL, the embedded store without', async () => {
    const postgres = defaultStore({ DATABASE_URL: 'postgres://u@127.0.0.1:1/none' });
    expect(postgres.kind).toBe('postgres');
    await postgres.close();
    const embedded = defaultStore({});
    expect(embedded.kind).toBe('embedded');
    expect((embedded as unknown as { dataDir: string }).dataDir).toBe('.lookout/pglite');
    await embedded.close();
  });
});
