import { describe, expect, it } from 'vitest';
import { LookoutError } from './errors.js';
import { importOptional, INSTALL_LINES, missingDependency, missingPeer, requireOptional, resolveOptional } from './optional.js';

describe('optional peer dependencies', () => {
  it('names the feature, the package and the exact install command', () => {
    const error = missingDependency('pgStore', 'pg');
    expect(error).toBeInstanceOf(LookoutError);
    expect(error.code).toBe('LOOKOUT_E_MISSING_DEPENDENCY');
    expect(error.message).toBe('LOOKOUT_E_MISSING_DEPENDENCY: the PostgreSQL KPI store (pgStore) needs the package "pg", which is not installed: npm install pg pg-copy-streams');
  });

  it('turns a package that is not installed into LOOKOUT_E_MISSING_DEPENDENCY, sync and async', async () => {
    expect(() => requireOptional('dashboard', 'lookout-no-such-package')).toThrow(/LOOKOUT_E_MISSING_DEPENDENCY: the built-in dashboard page needs the package "lookout-no-such-package", which is not installed: npm install uplot$/);
    expect(() => resolveOptional('dashboard', 'lookout-no-such-package', 'lookout-no-such-package/dist/x.js')).toThrow(/npm install uplot$/);
    await expect(importOptional('pgliteStore', 'lookout-no-such-package')).rejects.toThrow(/needs the package "lookout-no-such-package", which is not installed: npm install @electric-sql\/pglite$/);
  });

  it('loads an installed package, and lets any other failure through unchanged', async () => {
    expect(requireOptional<{ Pool: unknown }>('pgStore', 'pg').Pool).toBeTypeOf('function');
    expect(resolveOptional('dashboard', 'uplot', 'uplot/dist/uPlot.min.css')).toMatch(/uPlot\.min\.css$/);
    expect((await importOptional<{ PGlite: unknown }>('pgliteStore', '@electric-sql/pglite')).PGlite).toBeTypeOf('function');
    // A file missing inside an installed package is not "install the package".
    expect(() => resolveOptional('dashboard', 'uplot', 'uplot/dist/no-such-file.js')).toThrow(/Package subpath|Cannot find module/);
  });

  it('tells which of its peers a module-not-found error is about', () => {
    expect(missingPeer(Object.assign(new Error("Cannot find package 'yaml' imported from /app/node_modules/lookout/dist/cli/commands/init.js"), { code: 'ERR_MODULE_NOT_FOUND' }))).toBe('yaml');
    expect(missingPeer(Object.assign(new Error("Cannot find package '@grafana/grafana-foundation-sdk' imported from /x.js"), { code: 'ERR_MODULE_NOT_FOUND' }))).toBe('@grafana/grafana-foundation-sdk');
    expect(missingPeer(Object.assign(new Error("Cannot find package 'pg-types' imported from /x.js"), { code: 'ERR_MODULE_NOT_FOUND' }))).toBeUndefined();
    expect(missingPeer(Object.assign(new Error("Cannot find module '/app/dist/cli/main.js'"), { code: 'ERR_MODULE_NOT_FOUND' }))).toBeUndefined();
    expect(Object.values(INSTALL_LINES).every((line) => line.startsWith('npm install '))).toBe(true);
  });
});
