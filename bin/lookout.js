#!/usr/bin/env node
// The `lookout` command. `npm ci` builds dist/ through the `prepare` script.
import('../dist/cli/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('lookout: dist/ is missing; run `npm run build` first');
    process.exit(2);
  }
  throw error;
});
