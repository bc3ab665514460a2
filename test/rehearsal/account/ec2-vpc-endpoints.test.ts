import { SimulatedAccount } from './account';
import { reachesSystemsManager, s3GatewayAllows } from './ec2-vpc-endpoints';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';
import { distributorBucket } from './ssm-commands';
import { LATENCY } from '../latencies';

/**
 * VPC endpoints: creation and deletion in modelled time, the quota, one private-DNS endpoint per
 * service per VPC, idempotency; and what a rescue subnet reaches through them.
 */
describe('simulated account: VPC endpoints', () => {
  let account: SimulatedAccount;
  const VPC = 'vpc-rescue';
  const service = (name: string) => `com.amazonaws.us-east-1.${name}`;
  beforeEach(() => {
    account = newSimulatedAccount();
    account.vpcs.add(VPC);
    account.subnets.set('subnet-rescue', { availabilityZone: 'us-east-1a', vpcId: VPC, routesOutOfVpc: false });
    account.securityGroups.add('sg-endpoints');
  });
  const { ec2 } = accountHelpers(() => account);
  const create = (name: string, o: Record<string, unknown> = {}) => ec2('CreateVpcEndpoint', {
    VpcEndpointType: 'Interface',
    VpcId: VPC,
    ServiceName: service(name),
    SubnetIds: ['subnet-rescue'],
    SecurityGroupIds: ['sg-endpoints'],
    PrivateDnsEnabled: true,
    TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: [{ Key: 'owner', Value: 'test' }] }],
    ...o,
  }).VpcEndpoint;
  const stateOf = (id: string) => ec2('DescribeVpcEndpoints', { VpcEndpointIds: [id] }).VpcEndpoints[0].State;
  const openAll = () => ['ssm', 'ssmmessages', 'ec2messages'].map(name => create(name).VpcEndpointId as string);

  test('an interface endpoint is pending, then available; deleting, then deleted', () => {
    const { VpcEndpointId: id, State } = create('ssm');
    expect(State).toBe('pending');
    account.advance(LATENCY.vpcEndpointPendingToAvailable.seconds - 1);
    expect(stateOf(id)).toBe('pending');
    account.advance(1);
    expect(stateOf(id)).toBe('available');
    expect(ec2('DeleteVpcEndpoints', { VpcEndpointIds: [id] })).toEqual({ Unsuccessful: [] });
    expect(stateOf(id)).toBe('deleting');
    account.advance(LATENCY.vpcEndpointDeletion.seconds);
    expect(stateOf(id)).toBe('deleted');
  });

  test('one interface endpoint with private DNS per service per VPC, also while the first is being deleted', () => {
    const { VpcEndpointId: id } = create('ssm');
    expect(errorOf(() => create('ssm'))).toBe('InvalidParameter');
    account.advance(LATENCY.vpcEndpointPendingToAvailable.seconds);
    ec2('DeleteVpcEndpoints', { VpcEndpointIds: [id] });
    expect(errorOf(() => create('ssm'))).toBe('InvalidParameter');
    account.advance(LATENCY.vpcEndpointDeletion.seconds);
    expect(create('ssm').State).toBe('pending');
    // Another service, or the same one without private DNS, does not conflict.
    expect(errorOf(() => create('ssmmessages'))).toBe('no error');
    expect(errorOf(() => create('ssm', { PrivateDnsEnabled: false }))).toBe('no error');
  });

  test('the quota of interface endpoints per VPC: VpcEndpointLimitExceeded', () => {
    account.interfaceEndpointQuota = 2;
    create('ssm');
    create('ssmmessages');
    expect(errorOf(() => create('ec2messages'))).toBe('VpcEndpointLimitExceeded');
  });

  test('a ClientToken returns the same endpoint, and refuses other parameters', () => {
    const first = create('ssm', { ClientToken: 'token-1' });
    expect(create('ssm', { ClientToken: 'token-1' }).VpcEndpointId).toBe(first.VpcEndpointId);
    expect(errorOf(() => create('ssmmessages', { ClientToken: 'token-1' }))).toBe('IdempotentParameterMismatch');
  });

  test('refuses an unknown VPC, a subnet of another VPC and an unknown security group', () => {
    expect(errorOf(() => create('ssm', { VpcId: 'vpc-nope' }))).toBe('InvalidVpcId.NotFound');
    expect(errorOf(() => create('ssm', { SubnetIds: ['subnet-a'] }))).toBe('InvalidSubnetId.NotFound');
    expect(errorOf(() => create('ssm', { SecurityGroupIds: ['sg-nope'] }))).toBe('InvalidGroup.NotFound');
  });

  test('DescribeVpcEndpoints filters by VPC, service and tag, and pages', () => {
    for (let i = 0; i < 30; i++) create(`svc${i}`);
    const byTag = ec2('DescribeVpcEndpoints', { Filters: [{ Name: 'vpc-id', Values: [VPC] }, { Name: 'tag:owner', Values: ['test'] }] });
    expect(byTag.VpcEndpoints).toHaveLength(25);
    expect(ec2('DescribeVpcEndpoints', { Filters: [{ Name: 'tag:owner', Values: ['test'] }], NextToken: byTag.NextToken }).VpcEndpoints).toHaveLength(5);
    expect(ec2('DescribeVpcEndpoints', { Filters: [{ Name: 'service-name', Values: [service('svc3')] }] }).VpcEndpoints).toHaveLength(1);
    expect(errorOf(() => ec2('DescribeVpcEndpoints', { Filters: [{ Name: 'nope', Values: ['x'] }] }))).toBe('InvalidParameterValue');
  });

  test('a deletion that fails is reported per endpoint in Unsuccessful, and the endpoint stays', () => {
    const { VpcEndpointId: id } = create('ssm');
    account.vpcEndpointDeletionFailures = 1;
    expect(ec2('DeleteVpcEndpoints', { VpcEndpointIds: [id, 'vpce-unknown'] }).Unsuccessful.map((u: any) => u.Error.Code))
      .toEqual(['InternalError', 'InvalidVpcEndpoint.NotFound']);
    expect(stateOf(id)).toBe('pending');
  });

  describe('what a rescue subnet reaches', () => {
    test('Systems Manager only once ssm, ssmmessages and ec2messages are available with private DNS', () => {
      expect(reachesSystemsManager(account, 'subnet-rescue')).toBe(false);
      const [ssm, ...others] = openAll();
      account.advance(LATENCY.vpcEndpointPendingToAvailable.seconds - 1);
      expect(reachesSystemsManager(account, 'subnet-rescue')).toBe(false);
      account.advance(1);
      expect(reachesSystemsManager(account, 'subnet-rescue')).toBe(true);
      ec2('DeleteVpcEndpoints', { VpcEndpointIds: [ssm] });
      expect(reachesSystemsManager(account, 'subnet-rescue')).toBe(false);
      expect(others).toHaveLength(2);
    });

    test('a subnet with a route out of its VPC, or one the account does not know (a workload subnet), reaches it anyway', () => {
      account.subnets.set('subnet-public', { availabilityZone: 'us-east-1a', vpcId: VPC, routesOutOfVpc: true });
      expect(reachesSystemsManager(account, 'subnet-public')).toBe(true);
      expect(reachesSystemsManager(account, 'subnet-workload-us-east-1a')).toBe(true);
    });

    test('S3 only through an available gateway endpoint whose policy allows the object', () => {
      const bucket = distributorBucket('us-east-1');
      const gateway = (policy?: any) => account.vpcEndpoints.set('vpce-s3', {
        vpcEndpointId: 'vpce-s3',
        vpcId: VPC,
        serviceName: service('s3'),
        type: 'Gateway',
        state: 'available',
        privateDnsEnabled: false,
        subnetIds: [],
        securityGroupIds: [],
        routeTableIds: ['rtb-1'],
        tags: {},
        createdAt: 0,
        ...(policy ? { policy } : {}),
      });
      expect(s3GatewayAllows(account, 'subnet-rescue', bucket, 'k')).toBe(false);
      gateway({ Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::amazon-ssm-us-east-1/*' }] });
      expect(s3GatewayAllows(account, 'subnet-rescue', bucket, 'k')).toBe(false);
      gateway({ Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] }] });
      expect(s3GatewayAllows(account, 'subnet-rescue', bucket, 'k')).toBe(true);
      gateway({
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' },
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` },
        ],
      });
      expect(s3GatewayAllows(account, 'subnet-rescue', bucket, 'k')).toBe(false);
      // No policy: the default policy allows full access.
      gateway();
      expect(s3GatewayAllows(account, 'subnet-rescue', bucket, 'k')).toBe(true);
    });

    test('the Distributor bucket has its own name in af-south-1 and eu-south-1', () => {
      expect(distributorBucket('us-east-1')).toBe('us-east-1-birdwatcher-prod');
      expect(distributorBucket('eu-south-1')).toBe('aws-ssm-distributor-file-eu-south-1');
    });
  });

  describe('the SSM Agent of a helper in the rescue subnet', () => {
    const launch = () => {
      const h = account.addInstance({ ssmAgent: true, isHelper: true, state: 'stopped', subnetId: 'subnet-rescue' });
      ec2('StartInstances', { InstanceIds: [h.instanceId] });
      return h;
    };

    test('stays unregistered without the endpoints, and comes Online once they are available', () => {
      const h = launch();
      account.advance(LATENCY.instancePendingToRunning.seconds + LATENCY.windowsBootToSsmOnline.seconds + 120);
      expect(h.pingStatus).toBeUndefined();
      openAll();
      account.advance(LATENCY.vpcEndpointPendingToAvailable.seconds + LATENCY.ssmAgentRetry.seconds);
      expect(h.pingStatus).toBe('Online');
    });

    test('is not delayed when the endpoints became available during its boot', () => {
      openAll();
      const h = launch();
      account.advance(LATENCY.instancePendingToRunning.seconds + LATENCY.windowsBootToSsmOnline.seconds);
      expect(h.pingStatus).toBe('Online');
    });
  });
});
