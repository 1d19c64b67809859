#!/usr/bin/env node
// The `lookout` command. `npm ci` builds dist/ through the `prepare` script.
import('../dist/cli/main.js').catch(async (error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    // An optional peer dependency the commands import (yaml, the Grafana SDK):
    // the error names the exact install command (LOOKOUT_E_MISSING_DEPENDENCY).
    const optional = await import('../dist/core/optional.js').catch(() => undefined);
    const peer = optional?.missingPeer(error);
    if (peer !== undefined) {
      console.error(`lookout: ${optional.missingDependency('cli', peer).message}`);
      process.exit(1);
    }
    if (optional === undefined) {
      console.error('lookout: dist/ is missing; run `npm run build` first');
      process.exit(2);
    }
  }
  throw error;
});
