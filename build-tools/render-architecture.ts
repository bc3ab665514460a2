/**
 * Renders docs/architecture.dot to docs/architecture.svg with Graphviz compiled to WebAssembly
 * (@viz-js/viz): no browser, no network, the same output on every machine.
 *
 *   ts-node --transpile-only build-tools/render-architecture.ts [--check]
 *
 * `npx projen docs:architecture` runs it; `--check` fails when the committed SVG is stale.
 */
import * as fs from 'node:fs';

export const SOURCE = 'docs/architecture.dot';
export const TARGET = 'docs/architecture.svg';

/** The SVG of a DOT graph. */
export async function render(dot: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { instance } = require('@viz-js/viz') as typeof import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(dot, { format: 'svg', engine: 'dot' });
}

async function main(argv: string[]): Promise<number> {
  const svg = await render(fs.readFileSync(SOURCE, 'utf8'));
  if (argv.includes('--check')) {
    if (!fs.existsSync(TARGET) || fs.readFileSync(TARGET, 'utf8') !== svg) {
      console.error(`${TARGET} is out of date with ${SOURCE}: run \`npx projen docs:architecture\` and commit it.`);
      return 1;
    }
    console.log(`${TARGET} is up to date.`);
    return 0;
  }
  fs.writeFileSync(TARGET, svg);
  console.log(`${TARGET} written (${svg.length} bytes).`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(code => process.exit(code), (e) => { console.error(e); process.exit(1); });
}
