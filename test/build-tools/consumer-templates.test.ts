import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { CONSUMER_APP, consumerTemplateProblems, main } from '../../build-tools/consumer-templates';
import { ResetAccess, TargetTag } from '../../src';

/** The consumer app of examples/<language>/ built in TypeScript, optionally without one of its choices. */
function consumerTemplate(o: { targetTag?: TargetTag | 'default'; grants?: boolean; volumeKey?: boolean } = {}): any {
  const stack = new Stack(new App(), CONSUMER_APP.stackName);
  const volumeKey = new kms.Key(stack, 'VolumeKey', { enableKeyRotation: true, description: CONSUMER_APP.volumeKeyDescription });
  const resetAccess = new ResetAccess(stack, 'ResetAccess', {
    targetTag: o.targetTag === 'default' ? undefined : o.targetTag ?? { key: CONSUMER_APP.targetTag.key, values: [...CONSUMER_APP.targetTag.values] },
    allowedVolumeKeys: o.volumeKey === false ? undefined : [volumeKey],
  });
  const operators = new iam.Role(stack, CONSUMER_APP.operatorsRoleId, { assumedBy: new iam.AccountRootPrincipal() });
  if (o.grants !== false) {
    resetAccess.grantStartReset(operators);
    resetAccess.grantReadPasswords(operators);
  }
  return Template.fromStack(stack).toJSON();
}

describe('consumer app templates (the checks run on the Python, Java and Go apps)', () => {
  let template: any;
  beforeAll(() => {
    template = consumerTemplate();
  });

  test('the app built as the consumer apps build it passes every check', () => {
    expect(consumerTemplateProblems(template)).toEqual([]);
  });

  test('an app built otherwise fails each check it misses, naming what is missing', () => {
    // GIVEN the default target tag, no grants to the operators, no allowed volume key
    const problems = consumerTemplateProblems(consumerTemplate({ targetTag: 'default', grants: false, volumeKey: false }));

    // THEN
    expect(problems).toEqual(expect.arrayContaining([
      'no statement allows ec2:StopInstances on instances tagged team:break-glass=windows',
      'no statement allows ssm:SendCommand on instances tagged team:break-glass=windows',
      'the default tag cdk-ec2-reset-access:allow-reset still appears in the template',
      expect.stringMatching(/^step ResetAccessWorkflowPreflight\w+ is not told the target tag team:break-glass$/),
      expect.stringMatching(/^step ResetAccessWorkflowPreflight\w+ is not told the allowed volume key$/),
      'Operators may not start executions of the reset state machine (grantStartReset)',
      'Operators may not read the passwords of tagged instances (grantReadPasswords)',
    ]));
  });

  test('a tag with other values fails', () => {
    const problems = consumerTemplateProblems(consumerTemplate({ targetTag: { key: CONSUMER_APP.targetTag.key, values: ['linux'] } }));
    expect(problems).toContain('no statement allows ec2:GetPasswordData on instances tagged team:break-glass=windows');
    expect(problems).toContain('Operators may not read the passwords of tagged instances (grantReadPasswords)');
  });

  test('a template without the restore rule, or whose rule starts nothing, fails', () => {
    const withoutRule = structuredClone(template);
    const ruleId = Object.keys(withoutRule.Resources).find(id => withoutRule.Resources[id].Properties?.EventPattern?.detail?.status?.includes('ABORTED')
      && withoutRule.Resources[id].Properties.EventPattern.detail.status.length === 3)!;
    const brokenTarget = structuredClone(template);
    brokenTarget.Resources[ruleId].Properties.Targets[0].Arn = { Ref: 'Elsewhere' };
    delete withoutRule.Resources[ruleId];

    expect(consumerTemplateProblems(withoutRule)).toEqual(['expected one restore rule (Step Functions ABORTED, TIMED_OUT, FAILED), found 0']);
    expect(consumerTemplateProblems(brokenTarget)).toEqual(['the restore rule does not start a second state machine (the restore state machine)']);
  });

  test('main prints one line for every language and fails when an app did not synthesize', () => {
    const examples = fs.mkdtempSync(path.join(os.tmpdir(), 'consumers-'));
    const write = (language: string, content: any) => {
      fs.mkdirSync(path.join(examples, language, 'cdk.out'), { recursive: true });
      fs.writeFileSync(path.join(examples, language, 'cdk.out', `${CONSUMER_APP.stackName}.template.json`), JSON.stringify(content));
    };
    write('python', template);
    write('java', template);
    write('go', template);
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const count = Object.keys(template.Resources).length;
      expect(main(['python', 'java', 'go'], examples)).toBe(0);
      expect(log).toHaveBeenLastCalledWith(`consumers: python ok (${count} resources), java ok (${count}), go ok (${count})`);

      expect(main(['python', 'dotnet'], examples)).toBe(1);
      expect(log).toHaveBeenLastCalledWith(`consumers: python ok (${count} resources), dotnet FAILED (no template)`);
      expect(error).toHaveBeenCalledWith(expect.stringMatching(/^dotnet: .*ResetAccessConsumer\.template\.json is missing: the app did not synthesize$/));
    } finally {
      log.mockRestore();
      error.mockRestore();
      fs.rmSync(examples, { recursive: true, force: true });
    }
  });
});
