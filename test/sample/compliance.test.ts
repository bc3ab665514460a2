import * as fs from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ComplianceResult, README, renderCounts, runComplianceChecks, sampleStackChecks, SUITES, totalOf, unusedAcknowledgements, withCounts } from '../../build-tools/compliance';
import { acknowledgeLockTableBackups, acknowledgeServiceManagedLogEncryption } from '../../src/private/compliance';

/*
 * The checks platform teams run over CDK apps beyond AwsSolutions: cdk-nag's NIST 800-53 R5,
 * HIPAA Security, PCI DSS 3.2.1 and Serverless packs, and AWS Control Tower's proactive controls
 * through CDK policy validation (@cdklabs/cdk-validator-cfnguard and the cfn-guard binary it ships).
 * Every finding on the sample stack is fixed or acknowledged with a reason; the README's counts
 * come from this run (`npx projen docs:compliance` writes them).
 */

// Each run synthesizes the sample stack and runs cfn-guard: about 15 s alone on two cores.
const SYNTH_TIMEOUT = 240_000;

describe('compliance checks over the sample stack', () => {
  let plain: ComplianceResult;
  let withKey: ComplianceResult;
  /** Every option of the sample on: Session Manager encryption, the customer managed key, a volume key the workflow may use. */
  let everything: ComplianceResult;

  beforeAll(() => {
    plain = sampleStackChecks();
    withKey = sampleStackChecks({ customerManagedKey: true });
    everything = sampleStackChecks({
      sessionManagerEncryption: true,
      customerManagedKey: true,
      allowedVolumeKeyArns: ['arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    });
  }, 3 * SYNTH_TIMEOUT);

  test('every finding of every suite is fixed or acknowledged with a reason', () => {
    expect(plain.open).toEqual([]);
    expect(withKey.open).toEqual([]);
    expect(everything.open).toEqual([]);
  });

  test('every acknowledgement covers a finding in some configuration: none is left over from a fixed finding', () => {
    // An acknowledgement that covers nothing is a reason nobody needs, and would silently cover a
    // new finding of the same rule on the same construct.
    expect(plain.acknowledgements.length).toBeGreaterThan(300);
    expect(unusedAcknowledgements(plain, withKey, everything)).toEqual([]);
  });

  test('every suite ran (the cfn-guard binary included) and found what it acknowledges', () => {
    for (const suite of SUITES) {
      expect({ suite, ran: totalOf(plain.acknowledged[suite]) > 0 }).toEqual({ suite, ran: true });
    }
  });

  test('the customer managed key encrypts every log group and the lock table', () => {
    for (const result of [plain.acknowledged, withKey.acknowledged]) {
      // Fixed by default: the lock table uses a KMS key (aws/dynamodb) and the flow log is kept a year.
      expect(result['Control Tower (cfn-guard)'].dynamodb_table_encrypted_kms_check).toBeUndefined();
      expect(result['Control Tower (cfn-guard)'].cloudwatch_log_group_retention_period_check).toBeUndefined();
    }
    expect(plain.acknowledged['NIST 800-53 R5'].CloudWatchLogGroupEncrypted).toBeGreaterThan(15);
    expect(withKey.acknowledged['NIST 800-53 R5'].CloudWatchLogGroupEncrypted).toBeUndefined();
    expect(withKey.acknowledged['Control Tower (cfn-guard)'].cloudwatch_log_group_encrypted_check).toBeUndefined();
  });

  test('the README\'s counts are the ones this run found (npx projen docs:compliance rewrites them)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    expect(withCounts(readme, renderCounts(plain, withKey))).toEqual(readme);
  });
});

describe('the compliance run', () => {
  test('reports an acknowledgement that covers no finding', () => {
    // WHEN
    const result = runComplianceChecks(app => {
      const logGroup = new logs.LogGroup(new Stack(app, 'Bare'), 'Logs', { retention: logs.RetentionDays.ONE_WEEK });
      acknowledgeServiceManagedLogEncryption(logGroup);
      acknowledgeLockTableBackups(logGroup);
    });

    // THEN: the encryption acknowledgement is used; the backup plan one has no finding to cover.
    expect(unusedAcknowledgements(result)).toEqual([
      'HIPAA.Security-DynamoDBInBackupPlan Bare/Logs',
      'NIST.800.53.R5-DynamoDBInBackupPlan Bare/Logs',
    ]);
  }, SYNTH_TIMEOUT);

  test('reports a finding nobody acknowledged, from cdk-nag and from cfn-guard', () => {
    // WHEN
    const result = runComplianceChecks(app => {
      new logs.LogGroup(new Stack(app, 'Bare'), 'Logs', { retention: logs.RetentionDays.ONE_WEEK });
    });

    // THEN
    expect(result.open).toEqual(expect.arrayContaining([
      'NIST 800-53 R5: CloudWatchLogGroupEncrypted Bare/Logs/Resource',
      'Control Tower (cfn-guard): cloudwatch_log_group_encrypted_check Bare/Logs/Resource',
      'Control Tower (cfn-guard): cloudwatch_log_group_retention_period_check Bare/Logs/Resource',
    ]));
  }, SYNTH_TIMEOUT);
});
