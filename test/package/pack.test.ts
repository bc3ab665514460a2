import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, posix } from 'node:path';
import { buildSync } from 'esbuild';

/**
 * The npm package as `npm pack` would make it from this tree (the build compiles lib/ and bundles
 * assets/ before the tests): what a user installs, and nothing else.
 */
const ROOT = join(__dirname, '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

function packedFiles(): string[] {
  if (!existsSync(join(ROOT, 'lib', 'index.js')) || !existsSync(join(ROOT, 'assets'))) {
    throw new Error('lib/ or assets/ is missing: run `npx projen compile && npx projen bundle` first (the build does).');
  }
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`npm pack failed: ${result.stderr}`);
  return (JSON.parse(result.stdout)[0].files as Array<{ path: string }>).map(f => f.path).sort();
}

const FILES = packedFiles();
const PACKED = new Set(FILES);

/** The relative and bare module names a compiled file imports (`require()` in .js, `import`/`export … from` in .d.ts). */
function importsOf(file: string): string[] {
  // Doc comments of declarations hold examples (`import … from 'cdk-ec2-reset-access'`), not imports.
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/^\s*\/\*\*[\s\S]*?\*\//gm, '');
  const pattern = file.endsWith('.d.ts')
    ? /(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g
    : /require\(["']([^"']+)["']\)/g;
  return [...text.matchAll(pattern)].map(m => m[1]);
}

/** The file a relative import of `from` names: `x.js`/`x.d.ts` or `x/index.js`/`x/index.d.ts`. */
function resolveRelative(from: string, specifier: string): string | undefined {
  const ext = from.endsWith('.d.ts') ? '.d.ts' : '.js';
  const base = posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, '');
  return [`${base}${ext}`, `${base}/index${ext}`].find(candidate => existsSync(join(ROOT, candidate)));
}

/**
 * Every lib/ file that lib/index.js and lib/index.d.ts need, following relative imports, and the
 * declarations of every module that is loaded (so that its types are there too).
 */
function reachableFromIndex(): Set<string> {
  const reached = new Set<string>();
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const specifier of importsOf(file).filter(s => s.startsWith('.'))) {
      const target = resolveRelative(file, specifier);
      if (!target) throw new Error(`${file} imports ${specifier}, which does not exist`);
      visit(target);
    }
  };
  visit('lib/index.js');
  visit('lib/index.d.ts');
  for (const file of [...reached].filter(f => f.endsWith('.js'))) visit(file.replace(/\.js$/, '.d.ts'));
  return reached;
}

/** `@scope/name` or `name` of a bare module specifier. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The package a file under node_modules/ belongs to (the innermost one). */
function packageOfInput(input: string): string | undefined {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(input);
  return match?.[1];
}

function licenseOf(name: string, from: string): string {
  // The package.json next to the bundled file's own node_modules folder (nested copies have their own).
  const dir = from.slice(0, from.lastIndexOf(`node_modules/${name}/`) + `node_modules/${name}`.length);
  const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
  return typeof manifest.license === 'string' ? manifest.license : JSON.stringify(manifest.license ?? manifest.licenses ?? '');
}

/** Test-only packages whose licence must never reach the package (the IAM simulator of the rehearsal). */
const FORBIDDEN = (name: string, license: string) => name.startsWith('@cloud-copilot/') || /AGPL/i.test(license);

/** The esbuild entry points and options of the `bundle:*` tasks: what assets/ is built from. */
function bundleTasks(): Array<{ task: string; entry: string; args: string[] }> {
  const tasks = JSON.parse(readFileSync(join(ROOT, '.projen', 'tasks.json'), 'utf8')).tasks as Record<string, { steps?: Array<{ exec?: string; execArgs?: string[] }> }>;
  return Object.entries(tasks).filter(([name]) => name.startsWith('bundle:')).map(([task, { steps }]) => {
    const step = steps!.find(s => (s.execArgs?.[0] ?? s.exec?.split(' ')[0]) === 'esbuild')!;
    const args = step.execArgs ?? step.exec!.split(' ');
    return { task, entry: args[args.indexOf('--bundle') + 1], args };
  });
}

describe('the npm package', () => {
  test('ships the library, the bundles, the assembly and the docs a user reads, and nothing else', () => {
    const allowed = /^(lib\/.+\.(js|d\.ts)|assets\/.+|\.jsii|API\.md|CHANGELOG\.md|README\.md|LICENSE|package\.json)$/;
    expect(FILES.filter(file => !allowed.test(file))).toEqual([]);
    for (const devOnly of ['build-tools/', 'rosetta/', 'src/', 'test/', 'cli/', 'sample/', 'docs/', 'cdk.out/', '.tmp/', 'dist/']) {
      expect(FILES.filter(file => file.startsWith(devOnly))).toEqual([]);
    }
    expect(FILES.filter(file => /(^|\/)tsconfig\.json$|\.sh$|\.ts-fixture$|\.map$/.test(file))).toEqual([]);
    expect(PACKED.has('.jsii')).toBe(true);
  });

  test('ships exactly the lib/ files the library loads: no handler, nothing only the handlers use', () => {
    // GIVEN
    const needed = reachableFromIndex();

    // THEN
    expect([...needed].filter(file => !PACKED.has(file))).toEqual([]);
    expect(FILES.filter(file => file.startsWith('lib/') && !needed.has(file))).toEqual([]);
    expect(FILES.filter(file => /\.lambda\.(js|d\.ts)$/.test(file))).toEqual([]);
  });

  test('every package a shipped lib/ file imports is a dependency, a peer dependency or part of Node.js', () => {
    // GIVEN
    const declared = new Set([...Object.keys(PACKAGE.dependencies ?? {}), ...Object.keys(PACKAGE.peerDependencies ?? {})]);
    const builtins = new Set(builtinModules.flatMap(m => [m, `node:${m}`]));

    // WHEN
    const undeclared = FILES.filter(file => file.startsWith('lib/')).flatMap(file => importsOf(file)
      .filter(specifier => !specifier.startsWith('.') && !builtins.has(specifier) && !declared.has(packageName(specifier)))
      .map(specifier => `${file}: ${specifier}`));

    // THEN
    expect(undeclared).toEqual([]);
  });

  test('every Lambda bundle a construct deploys, and the CLI the package names as its bin, is in it', () => {
    // GIVEN the asset directories the generated *-function.js files point at
    const functions = FILES.filter(file => file.endsWith('-function.js'));
    const assetDirs = functions.flatMap(file => [...readFileSync(join(ROOT, file), 'utf8').matchAll(/path\.join\(__dirname,\s*["']([^"']+)["']\)/g)]
      .map(m => normalize(join(dirname(file), m[1])).replace(/\\/g, '/')));

    // THEN
    expect(functions.length).toBeGreaterThan(10);
    expect(assetDirs).toHaveLength(functions.length);
    expect(assetDirs.filter(dir => !PACKED.has(`${dir}/index.js`))).toEqual([]);
    expect(Object.values(PACKAGE.bin as Record<string, string>).filter(bin => !PACKED.has(bin))).toEqual([]);
  });

  test('holds no file of an AGPL or @cloud-copilot package: not packed, not a dependency, not bundled into assets/', () => {
    // GIVEN what is bundled into each asset: esbuild's list of inputs for the same entry and options
    const bundled = bundleTasks().flatMap(({ task, entry, args }) => {
      const option = (name: string) => args.find(a => a.startsWith(`--${name}=`))?.split('=')[1];
      const { metafile } = buildSync({
        entryPoints: [join(ROOT, entry)],
        absWorkingDir: ROOT,
        bundle: true,
        write: false,
        metafile: true,
        logLevel: 'silent',
        platform: 'node',
        target: option('target'),
        format: option('format') as 'cjs' | undefined,
        tsconfig: option('tsconfig'),
        loader: { '.ps1': 'text' },
      });
      return Object.keys(metafile.inputs).map(input => ({ task, input }));
    });
    const packagesIn = (inputs: typeof bundled) => inputs.flatMap(({ task, input }) => {
      const name = packageOfInput(input);
      return name ? [{ task, name, license: licenseOf(name, input) }] : [];
    });

    // THEN
    expect(bundled.length).toBeGreaterThan(100);
    expect(packagesIn(bundled).filter(p => FORBIDDEN(p.name, p.license)).map(p => `${p.task}: ${p.name} (${p.license})`)).toEqual([]);
    expect(FILES.filter(file => file.includes('node_modules/'))).toEqual([]);
    for (const dependency of [...Object.keys(PACKAGE.dependencies ?? {}), ...(PACKAGE.bundledDependencies ?? [])]) {
      const license = licenseOf(dependency, `node_modules/${dependency}/`);
      expect({ dependency, forbidden: FORBIDDEN(dependency, license) }).toEqual({ dependency, forbidden: false });
    }
  });

  test('no library, CLI or sample source imports an @cloud-copilot package (only test/ may: the IAM simulator is AGPL)', () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
        const rel = posix.join(dir, entry.name);
        if (entry.isDirectory()) walk(rel); else if (rel.endsWith('.ts')) sources.push(rel);
      }
    };
    for (const dir of ['src', 'cli', 'sample', 'build-tools']) walk(dir);
    expect(sources.length).toBeGreaterThan(50);
    // build-tools/rehearse.ts runs the rehearsal (a development tool, never packed): it may import the tests.
    expect(sources.filter(file => /from ['"]@cloud-copilot\//.test(readFileSync(join(ROOT, file), 'utf8')))).toEqual([]);
  });
});
