import { SimulatedAccount } from './account';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';
import { loadPowerShellParser } from './powershell';
import { OFFLINE_PASSWORD_FIX_SCRIPT } from '../../../src/workflow/private/offline-script';
import { LATENCY } from '../latencies';

/**
 * Systems Manager's agent and Run Command: who takes commands, how an invocation moves, what each document does.
 */
describe('simulated account: Run Command', () => {
  beforeAll(() => loadPowerShellParser());
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { ec2, ssm, stopFully } = accountHelpers(() => account);

  describe('Run Command', () => {
    const helper = () => {
      const instance = account.addInstance({ ssmAgent: true, isHelper: true, state: 'stopped' });
      ec2('StartInstances', { InstanceIds: [instance.instanceId] });
      account.advance(LATENCY.instancePendingToRunning.seconds + LATENCY.windowsBootToSsmOnline.seconds);
      return instance;
    };
    const send = (instanceId: string, DocumentName: string, Parameters: any) =>
      ssm('SendCommand', { InstanceIds: [instanceId], DocumentName, Parameters, Comment: 'test' }).Command.CommandId as string;
    const invocation = (CommandId: string, InstanceId: string) => ssm('GetCommandInvocation', { CommandId, InstanceId });
    const install = { action: ['Install'], name: ['AWSSupport-EC2Rescue'], version: ['latest'] };

    test('only registered instances take commands (InvalidInstanceId); unknown documents fail (InvalidDocument)', () => {
      const { instanceId } = account.addInstance();
      expect(errorOf(() => send(instanceId, 'AWS-ConfigureAWSPackage', install))).toBe('InvalidInstanceId');
      const h = helper();
      expect(errorOf(() => send(h.instanceId, 'AWS-Nope', {}))).toBe('InvalidDocument');
    });

    test('an invocation is invisible right after SendCommand, then Pending → InProgress → Success', () => {
      const h = helper();
      const id = send(h.instanceId, 'AWS-ConfigureAWSPackage', install);
      expect(errorOf(() => invocation(id, h.instanceId))).toBe('InvocationDoesNotExist');
      account.advance(1);
      expect(invocation(id, h.instanceId).Status).toBe('Pending');
      account.advance(LATENCY.commandDelivery.seconds);
      expect(invocation(id, h.instanceId).Status).toBe('InProgress');
      account.advance(LATENCY.installEc2Rescue.seconds);
      expect(invocation(id, h.instanceId).Status).toBe('Success');
      expect(account.instances.get(h.instanceId)!.ec2RescueInstalled).toBe(true);
      expect(ssm('ListCommands', { InstanceId: h.instanceId, Filters: [{ key: 'DocumentName', value: 'AWS-ConfigureAWSPackage' }] }).Commands)
        .toEqual([expect.objectContaining({ CommandId: id, Comment: 'test', Status: 'Success' })]);
    });

    test('CancelCommand: Pending or InProgress → Cancelling → Cancelled, and the command does not complete; a finished one is left as it is', () => {
      const h = helper();
      const running = send(h.instanceId, 'AWS-ConfigureAWSPackage', install);
      account.advance(1 + LATENCY.commandDelivery.seconds);
      expect(invocation(running, h.instanceId).Status).toBe('InProgress');
      ssm('CancelCommand', { CommandId: running, InstanceIds: [h.instanceId] });
      expect(invocation(running, h.instanceId).Status).toBe('Cancelling');
      account.advance(LATENCY.commandCancel.seconds);
      expect(invocation(running, h.instanceId).Status).toBe('Cancelled');
      account.advance(LATENCY.installEc2Rescue.seconds);
      expect(invocation(running, h.instanceId).Status).toBe('Cancelled');
      expect(account.instances.get(h.instanceId)!.ec2RescueInstalled).toBe(false);

      const pending = send(h.instanceId, 'AWS-ConfigureAWSPackage', install);
      ssm('CancelCommand', { CommandId: pending });
      account.advance(LATENCY.commandCancel.seconds + LATENCY.commandDelivery.seconds + LATENCY.installEc2Rescue.seconds);
      expect(invocation(pending, h.instanceId).Status).toBe('Cancelled');

      const done = send(h.instanceId, 'AWS-ConfigureAWSPackage', install);
      account.advance(1 + LATENCY.commandDelivery.seconds + LATENCY.installEc2Rescue.seconds);
      ssm('CancelCommand', { CommandId: done });
      expect(invocation(done, h.instanceId).Status).toBe('Success');
    });

    test('CancelCommand of an unknown command fails (InvalidCommandId), on a terminated instance too (InvalidInstanceId)', () => {
      const h = helper();
      expect(errorOf(() => ssm('CancelCommand', { CommandId: '00000000-0000-0000-0000-000000000000' }))).toBe('InvalidCommandId');
      const id = send(h.instanceId, 'AWS-ConfigureAWSPackage', install);
      ec2('TerminateInstances', { InstanceIds: [h.instanceId] });
      expect(errorOf(() => ssm('CancelCommand', { CommandId: id, InstanceIds: [h.instanceId] }))).toBe('InvalidInstanceId');
    });

    test('a command that hangs ends TimedOut (Execution Timed Out) at its executionTimeout', () => {
      const h = helper();
      account.hangingDocuments.add('AWS-RunPowerShellScript');
      const id = send(h.instanceId, 'AWS-RunPowerShellScript', { commands: ['Start-Sleep 99999'], executionTimeout: ['1200'] });
      account.advance(LATENCY.commandDelivery.seconds + 1199);
      expect(invocation(id, h.instanceId).Status).toBe('InProgress');
      account.advance(1);
      expect(invocation(id, h.instanceId)).toMatchObject({ Status: 'TimedOut', StatusDetails: 'ExecutionTimedOut' });
    });

    test('ListCommands pages: newest first, MaxResults of 1 to 50 (default 10), NextToken to the next page', () => {
      const h = helper();
      const ids = Array.from({ length: 23 }, () => send(h.instanceId, 'AWS-ConfigureAWSPackage', install));
      const list = (input: any) => ssm('ListCommands', { InstanceId: h.instanceId, ...input });

      const first = list({});
      expect(first.Commands.map((c: any) => c.CommandId)).toEqual(ids.slice(-10).reverse());
      const pages = [first.Commands.length];
      let token = first.NextToken;
      while (token) {
        const page = list({ NextToken: token });
        pages.push(page.Commands.length);
        token = page.NextToken;
      }
      expect(pages).toEqual([10, 10, 3]);
      expect(list({ MaxResults: 50 })).toEqual({ Commands: expect.any(Array) });
      expect(list({ MaxResults: 50 }).Commands).toHaveLength(23);
      expect(errorOf(() => list({ MaxResults: 51 }))).toBe('ValidationException');
      expect(errorOf(() => list({ NextToken: 'bogus' }))).toBe('InvalidNextToken');
    });

    test('the offline fix needs EC2Rescue and the volume attached at the device it names, and arms password generation', () => {
      const h = helper();
      const volume = account.addVolume();
      const fix = { commands: [OFFLINE_PASSWORD_FIX_SCRIPT] };
      const run = () => {
        const id = send(h.instanceId, 'AWS-RunPowerShellScript', fix);
        account.advance(LATENCY.commandDelivery.seconds + LATENCY.offlinePasswordFix.seconds);
        return invocation(id, h.instanceId);
      };
      expect(run()).toMatchObject({ Status: 'Failed', StandardErrorContent: expect.stringMatching(/EC2Rescue is not installed/) });
      send(h.instanceId, 'AWS-ConfigureAWSPackage', install);
      account.advance(LATENCY.commandDelivery.seconds + LATENCY.installEc2Rescue.seconds);
      expect(run()).toMatchObject({ Status: 'Failed', StandardErrorContent: expect.stringMatching(/no offline disk at xvdf/) });
      ec2('AttachVolume', { VolumeId: volume.volumeId, InstanceId: h.instanceId, Device: 'xvdf' });
      account.advance(LATENCY.volumeAttach.seconds);
      expect(run().Status).toBe('Success');
      expect(volume).toMatchObject({ passwordGenerationArmed: true, generation: 2 });
    });

    test('the online ResetAccess writes /EC2Rescue/Passwords/<id> as a SecureString; the key must be an id or short alias', () => {
      const { instanceId } = account.addInstance({ ssmAgent: true });
      expect(errorOf(() => send(instanceId, 'AWSSupport-RunEC2RescueForWindowsTool', {
        Command: ['ResetAccess'], Parameters: ['arn:aws:kms:us-east-1:123456789012:key/0b0b0b0b-1111-2222-3333-444444444444'],
      }))).toBe('InvalidParameters');
      const id = send(instanceId, 'AWSSupport-RunEC2RescueForWindowsTool', { Command: ['ResetAccess'], Parameters: ['alias/aws/ssm'] });
      account.advance(LATENCY.commandDelivery.seconds + LATENCY.onlineResetAccess.seconds);
      expect(invocation(id, instanceId).Status).toBe('Success');
      const parameter = account.parameters.get(`/EC2Rescue/Passwords/${instanceId}`)!;
      expect(parameter).toMatchObject({ type: 'SecureString', keyId: 'alias/aws/ssm' });
      expect(account.secrets.has(parameter.value)).toBe(true);
      // Deleted once read (the CLI's --delete); a second delete finds nothing.
      ssm('DeleteParameter', { Name: `/EC2Rescue/Passwords/${instanceId}` });
      expect(account.parameters.has(`/EC2Rescue/Passwords/${instanceId}`)).toBe(false);
      expect(errorOf(() => ssm('DeleteParameter', { Name: `/EC2Rescue/Passwords/${instanceId}` }))).toBe('ParameterNotFound');
    });

    test('a command to an instance that is not Online stays Pending, then times out', () => {
      const { instanceId } = account.addInstance({ ssmAgent: true });
      stopFully(instanceId);
      const id = ssm('SendCommand', { InstanceIds: [instanceId], DocumentName: 'AWS-ConfigureAWSPackage', Parameters: install, TimeoutSeconds: 60 }).Command.CommandId;
      account.advance(30);
      expect(invocation(id, instanceId).Status).toBe('Pending');
      account.advance(60);
      expect(invocation(id, instanceId).Status).toBe('TimedOut');
    });
  });

  describe('AWS-ConfigureAWSPackage in the rescue VPC', () => {
    test('fails unless the S3 gateway endpoint\'s policy allows the Region\'s Distributor bucket', () => {
      // GIVEN a helper Online in a rescue subnet (its endpoints open) whose VPC has no S3 gateway endpoint
      account.vpcs.add('vpc-r');
      account.subnets.set('subnet-r', { availabilityZone: 'us-east-1a', vpcId: 'vpc-r', routesOutOfVpc: false });
      for (const name of ['ssm', 'ssmmessages', 'ec2messages']) {
        account.vpcEndpoints.set(`vpce-${name}`, {
          vpcEndpointId: `vpce-${name}`,
          vpcId: 'vpc-r',
          serviceName: `com.amazonaws.us-east-1.${name}`,
          type: 'Interface',
          state: 'available',
          privateDnsEnabled: true,
          subnetIds: ['subnet-r'],
          securityGroupIds: [],
          routeTableIds: [],
          tags: {},
          createdAt: 0,
        });
      }
      const h = account.addInstance({ ssmAgent: true, isHelper: true, state: 'stopped', subnetId: 'subnet-r' });
      ec2('StartInstances', { InstanceIds: [h.instanceId] });
      account.advance(LATENCY.instancePendingToRunning.seconds + LATENCY.windowsBootToSsmOnline.seconds);
      const install = () => {
        const id = ssm('SendCommand', { InstanceIds: [h.instanceId], DocumentName: 'AWS-ConfigureAWSPackage', Parameters: { action: ['Install'], name: ['AWSSupport-EC2Rescue'] } }).Command.CommandId;
        account.advance(LATENCY.commandDelivery.seconds + LATENCY.installEc2Rescue.seconds);
        return ssm('GetCommandInvocation', { CommandId: id, InstanceId: h.instanceId });
      };

      // THEN without the gateway endpoint the package cannot be downloaded
      expect(install()).toMatchObject({ Status: 'Failed', StandardErrorContent: expect.stringContaining('us-east-1-birdwatcher-prod') });

      // WHEN the endpoint's policy allows the Distributor bucket
      account.vpcEndpoints.set('vpce-s3', {
        vpcEndpointId: 'vpce-s3',
        vpcId: 'vpc-r',
        serviceName: 'com.amazonaws.us-east-1.s3',
        type: 'Gateway',
        state: 'available',
        privateDnsEnabled: false,
        subnetIds: [],
        securityGroupIds: [],
        routeTableIds: [],
        tags: {},
        createdAt: 0,
        policy: { Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::us-east-1-birdwatcher-prod/*' }] },
      });
      expect(install().Status).toBe('Success');
    });
  });
});

