import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `@cloud-copilot/iam-simulate` (the IAM evaluator of the rehearsal) is AGPL-3.0: it may run in the
 * tests, and must never reach what users get: the Lambda and CLI bundles (assets/), the compiled
 * library (lib/) or the published package. esbuild's metafiles list every input of every bundle;
 * `npm pack --dry-run` lists every file the package would hold.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const AGPL = /@cloud-copilot[\\/](iam-simulate|iam-policy|iam-utils)|iam-simulate/;

describe('AGPL-licensed test dependencies stay out of what is shipped', () => {
  test('no bundle has an input from them (esbuild metafiles of every bundle task)', () => {
    // GIVEN every bundle task and the metafile each wrote (npx projen bundle)
    const tasks = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8')).tasks)
      .filter(name => name.startsWith('bundle:') && name !== 'bundle:watch');
    const metafiles = tasks.map(name => path.join(ROOT, '.tmp', 'bundle-meta', `${name.replace(/^bundle:/, '').replace(/[/.]/g, '-')}.json`));
    expect(tasks.length).toBeGreaterThanOrEqual(15);

    // THEN each bundle's inputs are listed, and none is AGPL
    for (const file of metafiles) {
      const inputs = Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).inputs as Record<string, unknown>);
      expect(inputs.length).toBeGreaterThan(0);
      expect({ file: path.basename(file), agpl: inputs.filter(i => AGPL.test(i)) }).toEqual({ file: path.basename(file), agpl: [] });
    }
  });

  test('the package holds none of their files, and depends on none of them', () => {
    // GIVEN the files npm would pack
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

    // THEN
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter(f => AGPL.test(f) || f.startsWith('node_modules/') || f.startsWith('test/') || f.startsWith('.tmp/'))).toEqual([]);
    const shipped = [pkg.dependencies, pkg.peerDependencies, pkg.optionalDependencies].flatMap(d => Object.keys(d ?? {}));
    expect(shipped.concat(pkg.bundledDependencies ?? []).filter(name => name.startsWith('@cloud-copilot/'))).toEqual([]);
    // What the package ships as code (lib/, assets/) mentions none of them.
    for (const file of files.filter(f => /^(lib|assets)\/.*\.js$/.test(f) && fs.existsSync(path.join(ROOT, f)))) {
      expect({ file, agpl: AGPL.test(fs.readFileSync(path.join(ROOT, file), 'utf8')) }).toEqual({ file, agpl: false });
    }
  });

  test('library source imports none of them (only test/ may)', () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p); else if (p.endsWith('.ts')) sources.push(p);
      }
    };
    for (const dir of ['src', 'cli', 'sample']) walk(path.join(ROOT, dir));
    expect(sources.filter(f => /@cloud-copilot\//.test(fs.readFileSync(f, 'utf8'))).map(f => path.relative(ROOT, f))).toEqual([]);
  });
});
