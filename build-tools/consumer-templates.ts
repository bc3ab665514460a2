/**
 * The assertions every consumer app's template must pass, in one place for every language.
 *
 * The consumer apps (examples/<language>/) are small CDK apps written the way a user of that
 * language would write them, against the package jsii-pacmak built. Each builds the same thing
 * (`CONSUMER_APP`): a stack with `ResetAccess` limited to a custom target tag, a customer managed
 * KMS key allowed for encrypted roots, and an operators role granted to start resets and read
 * passwords. `build-tools/consumers.sh` synthesizes them; this script then checks each template:
 *
 *   ts-node --transpile-only build-tools/consumer-templates.ts <language>...
 *
 * reads examples/<language>/cdk.out/<stack>.template.json, prints one line
 * (`consumers: python ok (123 resources), java ok (123), go ok (123)`) and exits 0, or lists what each template
 * lacks and exits 1. test/build-tools/consumer-templates.test.ts runs the same checks on the app
 * built in TypeScript, and shows that each of them fails when the app is built differently.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What every consumer app builds (examples/python/app.py, examples/java/src/main/java/com/example/resetaccess/ResetAccessConsumerApp.java, examples/go/main.go). */
export const CONSUMER_APP = {
  stackName: 'ResetAccessConsumer',
  targetTag: { key: 'team:break-glass', values: ['windows'] },
  /** Construct id of the operators role, the grantee of `grantStartReset` and `grantReadPasswords`. */
  operatorsRoleId: 'Operators',
  /** Description of the customer managed key given in `allowedVolumeKeys`. */
  volumeKeyDescription: 'Root volumes of the Windows fleet',
} as const;

/** The default target tag, which a custom `targetTag` replaces everywhere. */
const DEFAULT_TAG_KEY = 'cdk-ec2-reset-access:allow-reset';

/** Actions on the target instance (or its volumes, or its Auto Scaling group) that only tagged targets may suffer. */
const TARGET_ACTIONS = [
  'ec2:StopInstances', 'ec2:StartInstances', 'ec2:ModifyInstanceAttribute', 'ec2:CreateImage',
  'ec2:DetachVolume', 'ec2:AttachVolume', 'ec2:GetPasswordData', 'ssm:SendCommand',
  'autoscaling:EnterStandby', 'autoscaling:ExitStandby',
];

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Every policy statement of the template, with the logical id of the resource that holds it. */
function statementsOf(resources: Record<string, any>): { owner: string; statement: Statement }[] {
  const found: { owner: string; statement: Statement }[] = [];
  const walk = (owner: string, node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(item => walk(owner, item));
    } else if (node && typeof node === 'object') {
      const value = node as Record<string, unknown>;
      if (typeof value.Effect === 'string' && value.Action !== undefined) found.push({ owner, statement: value as unknown as Statement });
      else Object.values(value).forEach(child => walk(owner, child));
    }
  };
  for (const [id, resource] of Object.entries(resources)) walk(id, resource.Properties);
  return found;
}

const actionsOf = (statement: Statement): string[] => [statement.Action].flat();

/** Whether a statement is conditioned on the target tag: `aws:ResourceTag/<key>` (or SSM's `ssm:resourceTag/<key>`) equal to its values. */
function conditionedOnTag(statement: Statement, tag: { key: string; values: readonly string[] }): boolean {
  const equals = statement.Condition?.StringEquals ?? {};
  return Object.entries(equals).some(([key, values]) =>
    /^(aws:ResourceTag|ssm:resourceTag)\//.test(key) && key.split('/').slice(1).join('/') === tag.key
    && JSON.stringify(values) === JSON.stringify(tag.values));
}

/**
 * What the template of a consumer app lacks, as sentences (empty when it has everything): the
 * reset state machine and the restore rule that puts an instance back after a failed reset, every
 * target action conditioned on the custom tag (and the default tag nowhere), the steps told the
 * custom tag and the allowed key, and the operators' grants.
 */
export function consumerTemplateProblems(template: any, app = CONSUMER_APP): string[] {
  const resources: Record<string, any> = template.Resources ?? {};
  const problems: string[] = [];
  const ofType = (type: string) => Object.keys(resources).filter(id => resources[id].Type === type);
  const machines = ofType('AWS::StepFunctions::StateMachine');

  // The restore rule: failed, timed-out and aborted executions of the reset machine start the restore machine.
  const restoreRules = ofType('AWS::Events::Rule').filter(id => {
    const pattern = resources[id].Properties.EventPattern;
    return JSON.stringify(pattern?.detail?.status) === JSON.stringify(['ABORTED', 'TIMED_OUT', 'FAILED'])
      && pattern?.source?.[0] === 'aws.states';
  });
  if (restoreRules.length !== 1) {
    problems.push(`expected one restore rule (Step Functions ABORTED, TIMED_OUT, FAILED), found ${restoreRules.length}`);
    return problems;
  }
  const rule = resources[restoreRules[0]].Properties;
  const resetId: string | undefined = rule.EventPattern.detail.stateMachineArn?.[0]?.Ref;
  const restoreId: string | undefined = rule.Targets?.[0]?.Arn?.Ref;
  if (!resetId || !machines.includes(resetId)) problems.push('the restore rule does not watch a state machine of the stack (the reset state machine)');
  if (!restoreId || !machines.includes(restoreId) || restoreId === resetId) problems.push('the restore rule does not start a second state machine (the restore state machine)');
  if (!rule.Targets?.[0]?.DeadLetterConfig) problems.push('the restore rule has no dead-letter queue');
  const resetDefinition = resetId ? JSON.stringify(resources[resetId]?.Properties?.DefinitionString ?? '') : '';
  const preflight = ofType('AWS::Lambda::Function').find(id => id.includes('Preflight'));
  if (!preflight || !resetDefinition.includes(preflight)) problems.push('the reset state machine does not invoke the preflight step');

  // The custom target tag scopes every action on the target, and the default tag is gone.
  const statements = statementsOf(resources).filter(s => s.statement.Effect === 'Allow');
  for (const action of TARGET_ACTIONS) {
    const granting = statements.filter(s => actionsOf(s.statement).includes(action));
    if (!granting.some(s => conditionedOnTag(s.statement, app.targetTag))) {
      problems.push(`no statement allows ${action} on instances tagged ${app.targetTag.key}=${app.targetTag.values.join('|')}`);
    }
  }
  if (JSON.stringify(template).includes(DEFAULT_TAG_KEY)) problems.push(`the default tag ${DEFAULT_TAG_KEY} still appears in the template`);

  // The steps are told the tag and the allowed key (their configuration is an environment variable).
  const steps = ofType('AWS::Lambda::Function').filter(id => resources[id].Properties.Environment?.Variables?.RESET_WORKFLOW_CONFIG);
  const tagConfig = JSON.stringify(JSON.stringify({ targetTag: app.targetTag })).slice(2, -2);
  const keyId = ofType('AWS::KMS::Key').find(id => resources[id].Properties.Description === app.volumeKeyDescription);
  if (steps.length === 0) problems.push('no step function carries RESET_WORKFLOW_CONFIG');
  for (const step of steps) {
    const config = JSON.stringify(resources[step].Properties.Environment.Variables.RESET_WORKFLOW_CONFIG);
    if (!config.includes(tagConfig)) problems.push(`step ${step} is not told the target tag ${app.targetTag.key}`);
    if (!keyId || !config.includes(JSON.stringify({ 'Fn::GetAtt': [keyId, 'Arn'] }))) problems.push(`step ${step} is not told the allowed volume key`);
  }

  // The operators may start resets on the reset machine and read passwords of tagged instances only.
  const operatorsRole = ofType('AWS::IAM::Role').find(id => id.startsWith(app.operatorsRoleId));
  const operatorStatements = statements.filter(s => {
    const policy = resources[s.owner];
    return policy.Type === 'AWS::IAM::Policy' && JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: operatorsRole }]);
  }).map(s => s.statement);
  if (!operatorsRole) {
    problems.push(`no role ${app.operatorsRoleId}`);
  } else {
    if (!operatorStatements.some(s => actionsOf(s).includes('states:StartExecution') && JSON.stringify(s.Resource) === JSON.stringify({ Ref: resetId }))) {
      problems.push(`${app.operatorsRoleId} may not start executions of the reset state machine (grantStartReset)`);
    }
    if (!operatorStatements.some(s => actionsOf(s).includes('ec2:GetPasswordData') && conditionedOnTag(s, app.targetTag))) {
      problems.push(`${app.operatorsRoleId} may not read the passwords of tagged instances (grantReadPasswords)`);
    }
  }
  return problems;
}

/** Checks the template of each language's app; prints the summary line or the problems. */
export function main(languages: string[], examplesDir = path.resolve(__dirname, '..', 'examples')): number {
  if (languages.length === 0) {
    console.error('usage: consumer-templates.ts <language>...   (reads examples/<language>/cdk.out)');
    return 2;
  }
  const results: string[] = [];
  let failed = false;
  for (const [index, language] of languages.entries()) {
    const file = path.join(examplesDir, language, 'cdk.out', `${CONSUMER_APP.stackName}.template.json`);
    if (!fs.existsSync(file)) {
      console.error(`${language}: ${path.relative(process.cwd(), file)} is missing: the app did not synthesize`);
      failed = true;
      results.push(`${language} FAILED (no template)`);
      continue;
    }
    const template = JSON.parse(fs.readFileSync(file, 'utf-8'));
    const problems = consumerTemplateProblems(template);
    const count = Object.keys(template.Resources ?? {}).length;
    if (problems.length) {
      failed = true;
      console.error(`${language}: ${problems.length} problem(s) in ${path.relative(process.cwd(), file)}:\n${problems.map(p => `  - ${p}`).join('\n')}`);
    }
    results.push(`${language} ${problems.length ? 'FAILED' : 'ok'} (${count}${index === 0 ? ' resources' : ''})`);
  }
  console.log(`consumers: ${results.join(', ')}`);
  return failed ? 1 : 0;
}

if (require.main === module) {
  process.exit(main(process.argv.slice(2)));
}
