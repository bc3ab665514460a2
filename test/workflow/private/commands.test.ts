import { commandComment, commandSpec, sanitizeExcerpt } from '../../../src/workflow/private/commands';
import { WorkflowCommand } from '../../../src/workflow/private/contracts';
import { CONFIG, offlinePlan } from '../fixtures';

describe('commandSpec: the allow-list of what the workflow runs', () => {
  test('install-ec2rescue installs the AWSSupport-EC2Rescue package on the helper', () => {
    expect(commandSpec('install-ec2rescue', CONFIG, 'script')).toEqual({
      documentName: 'AWS-ConfigureAWSPackage',
      parameters: { action: ['Install'], name: ['AWSSupport-EC2Rescue'], version: ['latest'] },
      onHelper: true,
    });
  });

  test('offline-password-fix runs the script with AWS-RunPowerShellScript on the helper', () => {
    expect(commandSpec('offline-password-fix', CONFIG, 'the script')).toEqual({
      documentName: 'AWS-RunPowerShellScript',
      parameters: { commands: ['the script'], executionTimeout: ['1200'] },
      onHelper: true,
    });
  });

  test('online-reset runs EC2Rescue ResetAccess with the configured key on the target', () => {
    expect(commandSpec('online-reset', { ...CONFIG, onlineKmsKey: 'alias/reset' }, 'script')).toEqual({
      documentName: 'AWSSupport-RunEC2RescueForWindowsTool',
      parameters: { Command: ['ResetAccess'], Parameters: ['alias/reset'] },
      onHelper: false,
    });
  });

  test('anything else is refused', () => {
    expect(() => commandSpec('run-anything' as WorkflowCommand, CONFIG, '')).toThrow(expect.objectContaining({ name: 'InvalidInput' }));
  });
});

describe('commandComment', () => {
  test('names the command and the execution, within 100 characters', () => {
    const comment = commandComment('offline-password-fix', offlinePlan({ executionName: 'x'.repeat(80) }));
    expect(comment.length).toBeLessThanOrEqual(100);
    expect(comment).toMatch(/^offline-password-fix [0-9a-f]{8} x+$/);
  });

  test('differs between executions with the same name prefix', () => {
    const a = commandComment('online-reset', offlinePlan({ executionArn: 'arn:a', executionName: 'same' }));
    const b = commandComment('online-reset', offlinePlan({ executionArn: 'arn:b', executionName: 'same' }));
    expect(a).not.toBe(b);
  });
});

describe('sanitizeExcerpt', () => {
  test('keeps at most 500 characters', () => {
    expect(sanitizeExcerpt('e'.repeat(2000))).toHaveLength(500);
  });

  test('removes control characters and collapses whitespace', () => {
    expect(sanitizeExcerpt('line 1\r\n\tline\u0007 2\n\n')).toBe('line 1 line 2');
  });

  test('redacts what looks like a secret', () => {
    const text = 'Password: Hunter2! and password=abc secret is s3cr3t token=xyz';
    const clean = sanitizeExcerpt(text);
    expect(clean).not.toMatch(/Hunter2|abc|s3cr3t|xyz/);
    expect(clean).toContain('[redacted]');
  });

  test('nothing gives an empty excerpt', () => {
    expect(sanitizeExcerpt(undefined)).toBe('');
  });
});
