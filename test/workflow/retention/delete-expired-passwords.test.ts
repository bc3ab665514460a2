import { DeleteParametersCommand, DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest'; // the matchers' types (jest's setupFilesAfterEnv registers them at run time)
import { handler } from '../../../src/workflow/retention/delete-expired-passwords.lambda';
import { RETENTION_SECONDS_ENV } from '../../../src/workflow/retention/expired-passwords';
import { captureLogs } from '../fixtures';

const ssm = mockClient(SSMClient);
const NOW = new Date('2026-05-01T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600_000);
const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const name = (n: number) => `/EC2Rescue/Passwords/${id(n)}`;

describe('delete-expired-passwords handler', () => {
  beforeEach(() => {
    ssm.reset();
    process.env[RETENTION_SECONDS_ENV] = String(24 * 3600);
    // The handler's JSON logs are expected; keep them out of the test output.
    captureLogs();
  });
  afterEach(() => jest.restoreAllMocks());

  test('deletes parameters older than the retention and keeps recent ones', async () => {
    // GIVEN
    ssm.on(DescribeParametersCommand).resolves({
      Parameters: [
        { Name: name(1), LastModifiedDate: hoursAgo(30) },
        { Name: name(2), LastModifiedDate: hoursAgo(2) },
      ],
    });
    ssm.on(DeleteParametersCommand).resolves({ DeletedParameters: [name(1)], InvalidParameters: [] });

    // WHEN
    const result = await handler({}, NOW);

    // THEN
    expect(result).toEqual({ examined: 2, deleted: [name(1)], alreadyGone: [] });
    expect(ssm).toHaveReceivedCommandTimes(DeleteParametersCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(DeleteParametersCommand, { Names: [name(1)] });
  });

  test('lists only names under the password path, and follows every page', async () => {
    // GIVEN
    ssm.on(DescribeParametersCommand)
      .resolvesOnce({ Parameters: [{ Name: name(1), LastModifiedDate: hoursAgo(48) }], NextToken: 'page-2' })
      .resolvesOnce({ Parameters: [{ Name: name(2), LastModifiedDate: hoursAgo(48) }], NextToken: 'page-3' })
      .resolvesOnce({ Parameters: [{ Name: name(3), LastModifiedDate: hoursAgo(1) }] });
    ssm.on(DeleteParametersCommand).callsFake(input => ({ DeletedParameters: input.Names, InvalidParameters: [] }));

    // WHEN
    const result = await handler({}, NOW);

    // THEN
    expect(ssm).toHaveReceivedCommandTimes(DescribeParametersCommand, 3);
    expect(ssm).toHaveReceivedNthCommandWith(1, DescribeParametersCommand, {
      ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/EC2Rescue/Passwords/i-'] }],
    });
    expect(ssm).toHaveReceivedNthCommandWith(3, DescribeParametersCommand, { NextToken: 'page-3' });
    expect(result.deleted).toEqual([name(1), name(2)]);
  });

  test('deletes in batches of ten', async () => {
    // GIVEN
    const parameters = Array.from({ length: 23 }, (_, n) => ({ Name: name(n + 1), LastModifiedDate: hoursAgo(72) }));
    ssm.on(DescribeParametersCommand).resolves({ Parameters: parameters });
    ssm.on(DeleteParametersCommand).callsFake(input => ({ DeletedParameters: input.Names, InvalidParameters: [] }));

    // WHEN
    const result = await handler({}, NOW);

    // THEN
    const batches = ssm.commandCalls(DeleteParametersCommand).map(call => call.args[0].input.Names!.length);
    expect(batches).toEqual([10, 10, 3]);
    expect(result.deleted).toHaveLength(23);
  });

  test('touches nothing that is not an expired password parameter', async () => {
    // GIVEN: a listing that (wrongly) includes other names.
    ssm.on(DescribeParametersCommand).resolves({
      Parameters: [
        { Name: '/EC2Rescue/Passwords/i-0123456789abcdef0/note', LastModifiedDate: hoursAgo(100) },
        { Name: '/EC2Rescue/Passwords/i-notanid', LastModifiedDate: hoursAgo(100) },
        { Name: name(7), LastModifiedDate: hoursAgo(1) },
      ],
    });

    // WHEN
    const result = await handler({}, NOW);

    // THEN
    expect(ssm).toHaveReceivedCommandTimes(DeleteParametersCommand, 0);
    expect(result).toEqual({ examined: 3, deleted: [], alreadyGone: [] });
  });

  test('a parameter deleted meanwhile is reported, not an error', async () => {
    // GIVEN
    ssm.on(DescribeParametersCommand).resolves({ Parameters: [{ Name: name(1), LastModifiedDate: hoursAgo(30) }] });
    ssm.on(DeleteParametersCommand).resolves({ DeletedParameters: [], InvalidParameters: [name(1)] });

    // WHEN / THEN
    await expect(handler({}, NOW)).resolves.toEqual({ examined: 1, deleted: [], alreadyGone: [name(1)] });
  });

  test('never reads a parameter value', async () => {
    // GIVEN
    ssm.on(DescribeParametersCommand).resolves({ Parameters: [{ Name: name(1), LastModifiedDate: hoursAgo(30) }] });
    ssm.on(DeleteParametersCommand).resolves({ DeletedParameters: [name(1)] });

    // WHEN
    await handler({}, NOW);

    // THEN: only the two commands above were sent.
    const sent = ssm.calls().map(call => (call.args[0] as any).constructor.name);
    expect([...new Set(sent)].sort()).toEqual(['DeleteParametersCommand', 'DescribeParametersCommand']);
  });

  test('fails without a valid retention instead of deleting', async () => {
    // GIVEN
    delete process.env[RETENTION_SECONDS_ENV];

    // WHEN / THEN
    await expect(handler({}, NOW)).rejects.toThrow(/PASSWORD_RETENTION_SECONDS/);
    expect(ssm).toHaveReceivedCommandTimes(DescribeParametersCommand, 0);
  });
});
