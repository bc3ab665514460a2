/**
 * Loads `.ps1` files as text, as esbuild's text loader does in the bundles and the jest transform
 * does in tests, so build tools that run the step handlers with ts-node can import them.
 */
import * as fs from 'node:fs';

// eslint-disable-next-line @typescript-eslint/no-deprecated
require.extensions['.ps1'] = (module, filename) => {
  module.exports = fs.readFileSync(filename, 'utf8');
};
