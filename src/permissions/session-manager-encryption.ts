import { ArnFormat, CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SessionManagerPreferencesFunction } from './session-manager-preferences-function';
import { acknowledgeDeployTimeHandler, acknowledgeInlinePolicies } from '../private/compliance';
import { sharedEnvironment } from '../private/environments';
import { restrictGrantsToAwsServices } from '../private/key-policy';
import { newLogGroup } from '../private/log-group';
import { acknowledgeWildcards } from '../private/nag';

/**
 * Properties of a [`SessionManagerEncryption`](#cdk-ec2-reset-access.SessionManagerEncryption).
 *
 * Only the preferences set here are written; every other Session Manager preference
 * already in the account (S3 and CloudWatch logging, shell profiles, Run As...) is kept.
 */
export interface SessionManagerEncryptionProps {
  /**
   * An existing KMS key to encrypt Session Manager sessions with, instead of creating one.
   * Its key policy must let IAM policies of this account grant its use (the default key
   * policy's account root statement does), because `grantInstanceDecrypt` and
   * `grantResetPassword` grant through IAM. Rotation of an existing key is not changed.
   *
   * @default - a new symmetric key with automatic rotation is created
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Sets the preference "idle session timeout" (`inputs.idleSessionTimeout`), in whole minutes from 1 to 60.
   *
   * @default - the value already in the account is kept (Session Manager's own default is 20 minutes)
   */
  readonly idleSessionTimeout?: Duration;

  /**
   * Sets the preference "maximum session duration" (`inputs.maxSessionDuration`), in whole minutes from 1 to 1440.
   *
   * @default - the value already in the account is kept (no maximum unless one was set)
   */
  readonly maxSessionDuration?: Duration;

  /**
   * Sets the preference "Run As support for Linux and macOS nodes" (`inputs.runAsEnabled`).
   * When `true`, `runAsDefaultUser` is required. It does not affect Windows nodes.
   *
   * @default - the value already in the account is kept
   */
  readonly runAsEnabled?: boolean;

  /**
   * Sets the default operating system user of Run As sessions (`inputs.runAsDefaultUser`).
   *
   * @default - the value already in the account is kept
   */
  readonly runAsDefaultUser?: string;
}

/**
 * Options of [`SessionManagerEncryption.grantResetPassword`](#cdk-ec2-reset-access.SessionManagerEncryption.grantResetPassword).
 */
export interface ResetPasswordGrantOptions {
  /**
   * Limits the instances the operator may reset passwords on to those carrying all of these
   * tags (condition `ssm:resourceTag/<key>`).
   *
   * @default - any instance of this account and Region
   */
  readonly instanceTags?: { [key: string]: string };
}

/**
 * Encrypts Session Manager sessions with a KMS key, the prerequisite of Fleet Manager's
 * "Reset node user password" (a session with the AWS-owned document `AWS-PasswordReset`).
 *
 * It owns (or uses) the key and manages the account's Session Manager preferences document
 * `SSM-SessionManagerRunShell` through a custom resource, because that document often exists
 * already (the console creates it) and CloudFormation can neither adopt it nor make a new
 * version the default:
 *
 * - document absent: it is created, and deleted again with the stack;
 * - document present: its default version is merged (`inputs.kmsKeyId` and the preferences
 *   given in the props are set, every other field is kept) and published as the new default
 *   version, unless it already says that; the stack deletion makes the previous version the
 *   default again. What to restore is journaled in the document tag
 *   `cdk-ec2-reset-access:restore`, written before the first change.
 * - the stack deletion undoes only what is still its own: if the default version no longer
 *   uses this key, someone has changed the preferences since, and they are left as they are.
 * - an existing document that is not a valid Session preferences document fails the
 *   deployment with a message saying what to fix, and is not changed.
 *
 * The preferences exist once per account and Region: use one `SessionManagerEncryption`
 * per account and Region.
 *
 * Managed nodes in private subnets (no internet path) reach Systems Manager through interface
 * VPC endpoints; for encrypted sessions, and so for Fleet Manager's password reset, they also need
 * a `com.amazonaws.<region>.kms` interface endpoint (Systems Manager's VPC endpoint guide lists it
 * for KMS encryption of Session Manager), or the session cannot start. This construct does not
 * create it: add it to the nodes' VPC, e.g.
 * `vpc.addInterfaceEndpoint('Kms', { service: ec2.InterfaceVpcEndpointAwsService.KMS })`.
 * `RescueVpc` does not need one (its helpers run Run Command, not sessions).
 */
export class SessionManagerEncryption extends Construct {
  /** The name of the Session Manager preferences document. */
  public static readonly PREFERENCES_DOCUMENT_NAME = 'SSM-SessionManagerRunShell';

  /** The AWS-owned Session document that Fleet Manager's "Reset node user password" runs. */
  public static readonly PASSWORD_RESET_DOCUMENT_NAME = 'AWS-PasswordReset';

  /** The key Session Manager encrypts session data with. */
  public readonly key: kms.IKey;

  /** The function that manages the preferences document (the custom resource's service token). */
  public readonly preferencesFunction: lambda.Function;

  /** The custom resource that holds the preferences. */
  public readonly preferences: CustomResource;

  /** The ARN of the preferences document in this account and Region. */
  public readonly preferencesDocumentArn: string;

  /** The version of the preferences document that is the default after deployment. */
  public readonly preferencesDefaultVersion: string;

  constructor(scope: Construct, id: string, props: SessionManagerEncryptionProps = {}) {
    super(scope, id);
    const inputs = preferenceInputs(props);
    const stack = Stack.of(this);
    const rival = findRival(this);
    if (rival) {
      throw new Error(`SessionManagerEncryption: ${rival} already manages the Session Manager preferences of this account and Region; ` +
        'the preferences exist once per account and Region, so keep one SessionManagerEncryption and share it (its key and grants).');
    }

    if (props.encryptionKey) {
      this.key = props.encryptionKey;
    } else {
      const key = new kms.Key(this, 'Key', {
        description: 'Encrypts Session Manager session data (Fleet Manager "Reset node user password")',
        enableKeyRotation: true,
        // Default key policy: the account root statement, so the grants below work through IAM alone.
      });
      restrictGrantsToAwsServices(key);
      this.key = key;
    }

    this.preferencesDocumentArn = stack.formatArn({
      service: 'ssm',
      resource: 'document',
      resourceName: SessionManagerEncryption.PREFERENCES_DOCUMENT_NAME,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });

    const logGroup = newLogGroup(this, 'PreferencesFunctionLogs', { retention: logs.RetentionDays.ONE_YEAR });
    const role = new iam.Role(this, 'PreferencesFunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Manages the Session Manager preferences document ${SessionManagerEncryption.PREFERENCES_DOCUMENT_NAME}`,
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ManageSessionManagerPreferences',
      actions: [
        'ssm:DescribeDocument',
        'ssm:GetDocument',
        'ssm:CreateDocument',
        'ssm:UpdateDocument',
        'ssm:UpdateDocumentDefaultVersion',
        'ssm:DeleteDocument',
        // The restore journal (see the class docs) is a tag on the document.
        'ssm:AddTagsToResource',
        'ssm:RemoveTagsFromResource',
      ],
      resources: [this.preferencesDocumentArn],
    }));
    logGroup.grantWrite(role);
    acknowledgeInlinePolicies(role);

    this.preferencesFunction = new SessionManagerPreferencesFunction(this, 'PreferencesFunction', {
      description: `Creates or merges ${SessionManagerEncryption.PREFERENCES_DOCUMENT_NAME} (Session Manager preferences) and restores it on delete`,
      role,
      logGroup,
      timeout: Duration.minutes(2),
      memorySize: 256,
    });
    acknowledgeDeployTimeHandler(this.preferencesFunction);

    this.preferences = new CustomResource(this, 'Preferences', {
      serviceToken: this.preferencesFunction.functionArn,
      resourceType: 'Custom::SessionManagerPreferences',
      // Fail fast rather than CloudFormation's default hour if the function never answers.
      serviceTimeout: Duration.minutes(5),
      properties: {
        DocumentName: SessionManagerEncryption.PREFERENCES_DOCUMENT_NAME,
        KmsKeyId: this.key.keyArn,
        // One JSON string: CloudFormation would turn booleans into strings.
        Inputs: stack.toJsonString(inputs),
      },
    });
    this.preferencesDefaultVersion = this.preferences.getAttString('DefaultVersion');
  }

  /**
   * Lets instances with this role decrypt Session Manager session data: `kms:Decrypt` on the key.
   * Every managed node that should accept encrypted sessions (and so Fleet Manager's password
   * reset) needs it on its instance role, in addition to `AmazonSSMManagedInstanceCore`.
   */
  public grantInstanceDecrypt(grantee: iam.IGrantable): iam.Grant {
    return this.key.grantDecrypt(grantee);
  }

  /**
   * Lets an operator reset a local user's password from Fleet Manager ("Reset node user
   * password"), and nothing else through Session Manager:
   *
   * - `ssm:StartSession` on instances of this account and Region (optionally only those with
   *   the given tags), with `ssm:SessionDocumentAccessCheck`, so a session must name a
   *   document the operator is allowed: no plain shell;
   * - `ssm:StartSession` on the AWS-owned document `AWS-PasswordReset` (its ARN has no account);
   * - `ssm:TerminateSession` and `ssm:ResumeSession` on the operator's own sessions
   *   (`session/${aws:userid}-*`);
   * - `kms:GenerateDataKey` on the key, which Session Manager needs to encrypt the session.
   *
   * Browsing nodes in the Fleet Manager console needs read-only permissions besides
   * (e.g. `ssm:DescribeInstanceInformation`), which this grant does not give.
   */
  public grantResetPassword(operator: iam.IGrantable, options: ResetPasswordGrantOptions = {}): iam.Grant {
    const stack = Stack.of(this);
    const instances = stack.formatArn({
      service: 'ec2',
      resource: 'instance',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const passwordResetDocument = stack.formatArn({
      service: 'ssm',
      account: '',
      resource: 'document',
      resourceName: SessionManagerEncryption.PASSWORD_RESET_DOCUMENT_NAME,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const ownSessions = stack.formatArn({
      service: 'ssm',
      resource: 'session',
      resourceName: '${aws:userid}-*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });

    const tagConditions = Object.entries(options.instanceTags ?? {});
    for (const [key] of tagConditions) {
      if (!Token.isUnresolved(key) && key.trim() === '') {
        throw new Error('grantResetPassword: instanceTags has an empty tag key; give the tag keys the instances carry.');
      }
    }
    const instanceConditions: Record<string, Record<string, unknown>> = {
      BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' },
    };
    if (tagConditions.length > 0) {
      instanceConditions.StringEquals = Object.fromEntries(tagConditions.map(([key, value]) => [`ssm:resourceTag/${key}`, value]));
    }

    const grant = iam.Grant.addToPrincipal({
      grantee: operator,
      actions: ['ssm:StartSession'],
      resourceArns: [instances],
      conditions: instanceConditions,
    }).combine(iam.Grant.addToPrincipal({
      grantee: operator,
      actions: ['ssm:StartSession'],
      resourceArns: [passwordResetDocument],
    })).combine(iam.Grant.addToPrincipal({
      grantee: operator,
      actions: ['ssm:TerminateSession', 'ssm:ResumeSession'],
      resourceArns: [ownSessions],
    })).combine(this.key.grant(operator, 'kms:GenerateDataKey'));

    const principal: unknown = operator.grantPrincipal;
    if (Construct.isConstruct(principal)) {
      acknowledgeWildcards(principal, { resources: [instances, ownSessions] },
        'Fleet Manager password reset: instance/* is every instance of this account and Region (narrowed by instanceTags ' +
          'when given), and sessions can only use documents the operator is allowed (ssm:SessionDocumentAccessCheck), ' +
          'which is AWS-PasswordReset alone; session/${aws:userid}-* is the operator\'s own sessions only, as in AWS\'s ' +
          'Session Manager policy examples (session ids are generated, so they cannot be listed).');
    }
    return grant;
  }
}

/**
 * Another SessionManagerEncryption of the app that would manage the same document: one in the
 * same stack, or in a stack whose account and Region are known and the same.
 */
function findRival(self: SessionManagerEncryption): string | undefined {
  const rival = self.node.root.node.findAll()
    .find(c => c !== self && c instanceof SessionManagerEncryption && sharedEnvironment(self, c) === 'same');
  return rival?.node.path;
}

/** The explicitly set preferences, validated, as Session document `inputs` fields. */
function preferenceInputs(props: SessionManagerEncryptionProps): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  if (props.idleSessionTimeout !== undefined) {
    inputs.idleSessionTimeout = String(wholeMinutes(props.idleSessionTimeout, 'idleSessionTimeout', 60));
  }
  if (props.maxSessionDuration !== undefined) {
    inputs.maxSessionDuration = String(wholeMinutes(props.maxSessionDuration, 'maxSessionDuration', 1440));
  }
  if (props.runAsEnabled === true && !props.runAsDefaultUser) {
    throw new Error('SessionManagerEncryption: runAsEnabled is true but runAsDefaultUser is not set; ' +
      'give runAsDefaultUser (the OS user Run As sessions start as), or leave runAsEnabled unset.');
  }
  if (props.runAsEnabled !== undefined) inputs.runAsEnabled = props.runAsEnabled;
  if (props.runAsDefaultUser !== undefined) inputs.runAsDefaultUser = props.runAsDefaultUser;
  return inputs;
}

function wholeMinutes(duration: Duration, prop: string, max: number): number | string {
  if (duration.isUnresolved()) return duration.toMinutes();
  const minutes = duration.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > max) {
    throw new Error(`SessionManagerEncryption: ${prop} must be a whole number of minutes from 1 to ${max}, ` +
      `got ${duration.toHumanString()}; change ${prop}.`);
  }
  return minutes;
}
