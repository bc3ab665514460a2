import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, IPolicyValidationPlugin, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { SampleStack, SampleStackProps } from '../sample/sample-stack';

/**
 * The compliance checks platform teams run over CDK apps, run the way they would run them: as
 * policy-validation plugins of the app.
 *
 *   ts-node --transpile-only build-tools/compliance.ts   # write the counts into the README
 *
 * `npx projen docs:compliance` runs it; test/sample/compliance.test.ts fails when the README's
 * counts are stale or a finding is open.
 *
 * - cdk-nag 3's AwsSolutions, NIST 800-53 rev 5, HIPAA Security, PCI DSS 3.2.1 and Serverless packs;
 * - AWS Control Tower's proactive controls, as `@cdklabs/cdk-validator-cfnguard` runs them with the
 *   cfn-guard binary it ships (linux and macOS, x64 and arm64; no network).
 *
 * Every finding is either open (nobody acknowledged it: the test fails and lists it) or
 * acknowledged with a reason by the construct that made the resource (src/private/compliance.ts).
 */

/** The check suites, by the name the README's table uses, in its order. */
export const SUITES = ['AWS Solutions', 'NIST 800-53 R5', 'HIPAA Security', 'PCI DSS 3.2.1', 'Serverless', 'Control Tower (cfn-guard)'] as const;
export type Suite = typeof SUITES[number];

const NAG_PACKS: Array<{ suite: Suite; create: (app: App) => NagPack }> = [
  { suite: 'AWS Solutions', create: app => new AwsSolutionsChecks(app) },
  { suite: 'NIST 800-53 R5', create: app => new NIST80053R5Checks(app) },
  { suite: 'HIPAA Security', create: app => new HIPAASecurityChecks(app) },
  { suite: 'PCI DSS 3.2.1', create: app => new PCIDSS321Checks(app) },
  { suite: 'Serverless', create: app => new ServerlessChecks(app) },
];
const CFN_GUARD_PLUGIN = 'cdk-validator-cfnguard';

/** What the checks found in one app. */
export interface ComplianceResult {
  /** Findings nobody acknowledged, as `<suite>: <rule> <construct path>`. */
  readonly open: string[];
  /** Acknowledged findings (resources), by suite and rule. */
  readonly acknowledged: Record<Suite, Record<string, number>>;
  /** Every acknowledgement of a suite's rule, as `<rule id> <construct path>` (the construct it was made on). */
  readonly acknowledgements: string[];
  /** The acknowledgements that covered at least one finding, in the same form. */
  readonly usedAcknowledgements: string[];
}

/**
 * Synthesizes the app `define` builds with every suite as a validation plugin, and sorts the
 * findings into open and acknowledged. A fresh app each time: an app synthesizes once.
 */
export function runComplianceChecks(define: (app: App) => void): ComplianceResult {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'compliance-'));
  try {
    const app = new App({ outdir });
    define(app);
    const acknowledged = emptyCounts();
    const used = new Set<string>();
    const packs = NAG_PACKS.map(({ suite, create }) => {
      const pack = create(app);
      countAcknowledgements(pack, acknowledged[suite], used);
      return pack;
    });
    Validations.of(app).addPlugins(...packs as IPolicyValidationPlugin[], new CfnGuardValidator());
    try {
      app.synth();
    } catch (error) {
      // Open findings make synthesis fail; they are read from the report below. Anything else is a real failure.
      if (!fs.existsSync(path.join(outdir, 'validation-report.json'))) throw error;
    }
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
    const open: string[] = [];
    const byPath = new Map(app.node.findAll().map(c => [c.node.path, c]));
    for (const plugin of report.pluginReports) {
      const suite = suiteOf(plugin.pluginName);
      for (const violation of plugin.violations) {
        for (const construct of violation.violatingConstructs) {
          open.push(`${suite}: ${ruleOf(violation.ruleName)} ${construct.constructPath ?? construct.cloudFormationResource?.logicalId}`);
        }
      }
      // Core suppresses plugin findings by `Validations.acknowledge` (cdk-nag filters its own, counted above).
      for (const violation of plugin.suppressedViolations ?? []) {
        const counts = acknowledged[suite];
        const rule = ruleOf(violation.ruleName);
        counts[rule] = (counts[rule] ?? 0) + violation.violatingConstructs.length;
        for (const construct of violation.violatingConstructs) {
          const node = construct.constructPath ? byPath.get(construct.constructPath) : undefined;
          const id = `${plugin.pluginName}::${violation.ruleName}`;
          const owner = node && acknowledgingScope(node, id);
          if (owner) used.add(`${id} ${owner.node.path}`);
        }
      }
    }
    return { open: open.sort(), acknowledged, acknowledgements: acknowledgementsIn(app), usedAcknowledgements: [...used].sort() };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function emptyCounts(): Record<Suite, Record<string, number>> {
  return Object.fromEntries(SUITES.map(suite => [suite, {}])) as Record<Suite, Record<string, number>>;
}

function suiteOf(pluginName: string): Suite {
  if (pluginName === CFN_GUARD_PLUGIN) return 'Control Tower (cfn-guard)';
  const pack = NAG_PACKS.find(p => pluginName.startsWith(packPrefix(p.suite)));
  if (!pack) throw new Error(`Unknown validation plugin ${pluginName}`);
  return pack.suite;
}

const PREFIXES: Record<string, string> = {
  'AWS Solutions': 'AwsSolutions',
  'NIST 800-53 R5': 'NIST.800.53.R5',
  'HIPAA Security': 'HIPAA.Security',
  'PCI DSS 3.2.1': 'PCI.DSS.321',
  'Serverless': 'Serverless',
};

function packPrefix(suite: Suite): string {
  return PREFIXES[suite];
}

/**
 * `NIST.800.53.R5-LambdaDLQ` → `LambdaDLQ`, `AwsSolutions-IAM5[Resource::*]` → `IAM5` (each finding
 * of a rule still counts once); cfn-guard rule names stay as they are.
 */
function ruleOf(ruleName: string): string {
  const prefix = Object.values(PREFIXES).find(p => ruleName.startsWith(`${p}-`));
  return (prefix ? ruleName.slice(prefix.length + 1) : ruleName).replace(/\[.*\]$/, '');
}

/**
 * cdk-nag 3 drops acknowledged findings before it reports, so the count is taken where it asks
 * whether a finding is acknowledged (`NagPack.isAcknowledged`, called only for non-compliant
 * resources). Fails loudly if a cdk-nag release renames it, rather than counting nothing.
 */
function countAcknowledgements(pack: NagPack, counts: Record<string, number>, used: Set<string>): void {
  const target = pack as unknown as { isAcknowledged?: (node: IConstruct, ruleId: string) => boolean };
  const original = target.isAcknowledged;
  if (typeof original !== 'function') {
    throw new Error('cdk-nag no longer has NagPack.isAcknowledged: update test/helpers/compliance.ts to count acknowledged findings.');
  }
  const seen = new Set<string>();
  target.isAcknowledged = function (this: unknown, node: IConstruct, ruleId: string): boolean {
    const isAcknowledged = original.call(this, node, ruleId);
    const key = `${ruleId} ${node.node.path}`;
    if (isAcknowledged && !seen.has(key)) {
      seen.add(key);
      const rule = ruleOf(ruleId);
      counts[rule] = (counts[rule] ?? 0) + 1;
      const owner = acknowledgingScope(node, ruleId);
      if (owner) used.add(`${ruleId} ${owner.node.path}`);
    }
    return isAcknowledged;
  };
}

/**
 * The rule ids acknowledged on `scope` itself (`Validations.of(scope).acknowledge` records them as
 * metadata; cdk-nag's ids carry the `Annotation::` namespace there).
 */
function acknowledgedIdsOn(scope: IConstruct): string[] {
  return scope.node.metadata
    .filter(entry => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && entry.data)
    .flatMap(entry => Object.keys(entry.data as object))
    .map(id => id.replace(/^annotation::/i, ''));
}

/** The nearest scope, from `node` up, whose acknowledgements include `ruleId`: where cdk-nag and core look. */
function acknowledgingScope(node: IConstruct, ruleId: string): IConstruct | undefined {
  for (let current: IConstruct | undefined = node; current; current = current.node.scope) {
    if (acknowledgedIdsOn(current).includes(ruleId)) return current;
  }
  return undefined;
}

/** Every acknowledgement in the app of a rule of the suites run here, as `<rule id> <construct path>`. */
function acknowledgementsIn(app: App): string[] {
  const ofSuites = (id: string) => id.startsWith(`${CFN_GUARD_PLUGIN}::`) || Object.values(PREFIXES).some(prefix => id.startsWith(`${prefix}-`));
  return app.node.findAll()
    .flatMap(scope => acknowledgedIdsOn(scope).filter(ofSuites).map(id => `${id} ${scope.node.path}`))
    .sort();
}

/**
 * Acknowledgements that covered no finding in any of `results` (synthesized with the same construct
 * paths, in different configurations): what a change made obsolete, and would silently cover a new
 * finding of the same rule later.
 */
export function unusedAcknowledgements(...results: ComplianceResult[]): string[] {
  const used = new Set(results.flatMap(result => result.usedAcknowledgements));
  return [...new Set(results.flatMap(result => result.acknowledgements))].filter(ack => !used.has(ack)).sort();
}

interface ValidationReport {
  readonly pluginReports: Array<{
    readonly pluginName: string;
    readonly violations: ReportedViolation[];
    readonly suppressedViolations?: ReportedViolation[];
  }>;
}

interface ReportedViolation {
  readonly ruleName: string;
  readonly violatingConstructs: Array<{ readonly constructPath?: string; readonly cloudFormationResource?: { readonly logicalId: string } }>;
}

/** Total acknowledged findings of a suite. */
export function totalOf(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** The sample stack as `cdk deploy` deploys it, alone in an app, with the given options. */
export function sampleStackChecks(options: Pick<SampleStackProps, 'customerManagedKey' | 'sessionManagerEncryption' | 'allowedVolumeKeyArns'> = {}): ComplianceResult {
  return runComplianceChecks(app => {
    new SampleStack(app, 'Sample', options);
  });
}

export const README = 'README.md';
const START = '<!-- compliance-counts:start (generated by `npx projen docs:compliance`) -->';
const END = '<!-- compliance-counts:end -->';

/** The README's table of findings: acknowledged per suite and rule, for the sample stack without and with a customer managed key. */
export function renderCounts(plain: ComplianceResult, withKey: ComplianceResult): string {
  const byRule = (counts: Record<string, number>) => Object.entries(counts)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([rule, n]) => `${rule} ${n}`)
    .join(', ');
  const openIn = (result: ComplianceResult, suite: Suite) => result.open.filter(line => line.startsWith(`${suite}:`)).length;
  return [
    '| Checks | Acknowledged findings (by rule) | With `encryptionKey` | Open |',
    '|---|---|---:|---:|',
    ...SUITES.map(suite => `| ${suite} | ${totalOf(plain.acknowledged[suite])} (${byRule(plain.acknowledged[suite]) || 'none'}) | ` +
      `${totalOf(withKey.acknowledged[suite])} | ${openIn(plain, suite) + openIn(withKey, suite)} |`),
  ].join('\n');
}

/** The README with the block between the markers replaced by `counts`. */
export function withCounts(readme: string, counts: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${README} has no ${START} ... ${END} block`);
  return `${readme.slice(0, start + START.length)}\n${counts}\n${readme.slice(end)}`;
}

if (require.main === module) {
  const readme = fs.readFileSync(README, 'utf8');
  const counts = renderCounts(sampleStackChecks(), sampleStackChecks({ customerManagedKey: true }));
  fs.writeFileSync(README, withCounts(readme, counts));
  console.log(counts);
}
