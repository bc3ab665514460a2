/**
 * Integration test for a real account: deploys the sample stack with a small demo Windows instance,
 * resets it offline and then online through the reset state machine, and checks the outcome with
 * AWS API calls. `npx projen integ:reset-access:assert` (part of `npx projen test`) only synthesizes
 * this app and compares it with the committed snapshot; `npx projen integ:reset-access:deploy`
 * deploys it, runs the assertions, refreshes the snapshot and destroys it (see
 * docs/drafts/integration-tests.md for credentials, Region, duration and cost).
 *
 * Every assertion waits (`waitForAssertions`), so a failed one fails the deployment and with it
 * `cdk deploy`; plain `expect` results would only be written to stack outputs.
 *
 * The assertions never read a password: the offline check asserts that GetPasswordData is
 * non-empty (the data is encrypted with the test's own key pair, deleted with the stack), and the
 * online check describes the parameter (metadata, no value).
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { SampleStack } from '../sample/sample-stack';
import { RESCUE_PASSWORD_PARAMETER_PREFIX } from '../src';
import { DemoWindowsInstance } from './helpers/demo-windows-instance';

const app = new App();
const stack = new SampleStack(app, 'CdkEc2ResetAccessInteg', {
  description: 'cdk-ec2-reset-access integration test: the sample stack and a demo Windows instance to reset',
});
const demo = new DemoWindowsInstance(stack, 'Demo', {
  rescueVpc: stack.resetAccess.rescueVpc,
  instanceProfile: stack.instanceProfile,
});
const instanceId = demo.instance.instanceId;
const stateMachineArn = stack.resetAccess.workflow.stateMachine.stateMachineArn;

const integ = new IntegTest(app, 'ResetAccessInteg', {
  testCases: [stack],
  // Asset hashes change with every handler edit; the templates are what the snapshot guards.
  diffAssets: false,
  cdkCommandOptions: { destroy: { args: { force: true } } },
});
const { assertions } = integ;

/** For checks that should hold at once: a few tries, then the deployment fails. */
const BRIEF = { totalTimeout: Duration.minutes(3), interval: Duration.seconds(20) };

/** Starts a reset and waits until its execution has SUCCEEDED (a failed or aborted one fails the test at once). */
function reset(id: string, method: 'offline' | 'online', timeout: Duration) {
  const start = assertions.awsApiCall('SFN', 'startExecution', {
    stateMachineArn,
    name: `integ-${method}-${id}`,
    input: Stack.of(stack).toJsonString({ instanceId, method }),
  });
  const finished = assertions.awsApiCall('SFN', 'describeExecution', {
    executionArn: start.getAttString('executionArn'),
  }).expect(ExpectedResult.objectLike({ status: 'SUCCEEDED' }))
    .waitForAssertions({ totalTimeout: timeout, interval: Duration.seconds(30) });
  start.next(finished);
  return { start, finished };
}

// 1. Offline reset: stop, backup image, root volume to a helper, EC2Rescue offline, back, start,
//    verified by the workflow itself with GetPasswordData (up to about 25 minutes).
const offline = reset('1', 'offline', Duration.minutes(45));

// 2. The instance has a new password: GetPasswordData is non-empty. Presence only; never the value.
const passwordData = assertions.awsApiCall('EC2', 'getPasswordData', { InstanceId: instanceId })
  .expect(ExpectedResult.objectLike({ PasswordData: Match.stringLikeRegexp('.+') }))
  .waitForAssertions(BRIEF);
offline.finished.next(passwordData);

// 3. After its restart the instance is back in Systems Manager, as the online method needs.
const managed = assertions.awsApiCall('SSM', 'describeInstanceInformation', {
  Filters: [{ Key: 'InstanceIds', Values: [instanceId] }],
}).expect(ExpectedResult.objectLike({ InstanceInformationList: [Match.objectLike({ InstanceId: instanceId, PingStatus: 'Online' })] }))
  .waitForAssertions({ totalTimeout: Duration.minutes(15), interval: Duration.seconds(30) });
passwordData.next(managed);

// 4. Online reset through Run Command (AWSSupport-RunEC2RescueForWindowsTool ResetAccess).
const online = reset('2', 'online', Duration.minutes(30));
managed.next(online.start);

// 5. The password parameter exists: described (name and type), never read or decrypted.
const parameterName = `${RESCUE_PASSWORD_PARAMETER_PREFIX}${instanceId}`;
const parameter = assertions.awsApiCall('SSM', 'describeParameters', {
  ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [parameterName] }],
}).expect(ExpectedResult.objectLike({ Parameters: [Match.objectLike({ Name: parameterName, Type: 'SecureString' })] }))
  .waitForAssertions(BRIEF);
online.finished.next(parameter);

// 6. No helper instance is left running or starting for this target.
const helpers = assertions.awsApiCall('EC2', 'describeInstances', {
  Filters: [
    { Name: 'tag:cdk-ec2-reset-access:role', Values: ['helper'] },
    { Name: 'tag:cdk-ec2-reset-access:target', Values: [instanceId] },
    { Name: 'instance-state-name', Values: ['pending', 'running'] },
  ],
}).expect(ExpectedResult.objectLike({ Reservations: [] }))
  .waitForAssertions(BRIEF);
parameter.next(helpers);

// 7. Clean up what outlives the stack: the password parameter (PasswordRetention would delete it
//    after 24 hours, but it goes with the stack) and the offline reset's backup image and snapshot.
const deleteParameter = assertions.awsApiCall('SSM', 'deleteParameter', { Name: parameterName });
helpers.next(deleteParameter);
const backupImage = assertions.awsApiCall('EC2', 'describeImages', {
  Owners: ['self'],
  Filters: [
    { Name: 'tag:cdk-ec2-reset-access:target', Values: [instanceId] },
    { Name: 'tag:cdk-ec2-reset-access:role', Values: ['backup'] },
  ],
}).expect(ExpectedResult.objectLike({ Images: [Match.objectLike({ State: 'available' })] }))
  .waitForAssertions({ totalTimeout: Duration.minutes(20), interval: Duration.seconds(30) });
deleteParameter.next(backupImage);
const deregister = assertions.awsApiCall('EC2', 'deregisterImage', {
  ImageId: backupImage.getAttString('apiCallResponse.Images.0.ImageId'),
  DeleteAssociatedSnapshots: true,
});
deregister.provider.addToRolePolicy({ Effect: 'Allow', Action: ['ec2:DeleteSnapshot'], Resource: ['*'] });
backupImage.next(deregister);

app.synth();
