import { Readable } from 'stream';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CLIENT_CONFIG, autoScaling, dynamodb, ec2, ssm } from '../../../src/workflow/private/clients';

/** An HTTP handler that answers with the given responses in turn, and counts the requests. */
function scriptedHandler(responses: { statusCode: number; body: string; headers?: Record<string, string> }[]) {
  const handler = {
    requests: 0,
    async handle() {
      const r = responses[Math.min(handler.requests++, responses.length - 1)];
      return { response: { statusCode: r.statusCode, reason: '', headers: { 'content-type': 'text/xml', ...r.headers }, body: Readable.from([Buffer.from(r.body)]) } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() { return {}; },
  };
  return handler;
}

const offline = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'test' } };

describe('SDK clients', () => {
  test('every client of the steps uses the adaptive retry mode with 5 attempts', async () => {
    for (const client of [ec2, ssm, autoScaling, dynamodb]) {
      expect(await client.config.maxAttempts()).toBe(5);
      expect(((await client.config.retryStrategy()) as { mode?: string }).mode).toBe('adaptive');
    }
  });

  test('EC2 RequestLimitExceeded is retried by the SDK, then succeeds', async () => {
    // GIVEN
    const handler = scriptedHandler([
      { statusCode: 503, body: '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r1</RequestID></Response>' },
      { statusCode: 200, body: '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r2</requestId><reservationSet/></DescribeInstancesResponse>' },
    ]);
    const client = new EC2Client({ ...CLIENT_CONFIG, ...offline, requestHandler: handler });

    // WHEN
    const out = await client.send(new DescribeInstancesCommand({}));

    // THEN
    expect(handler.requests).toBe(2);
    expect(out.$metadata.attempts).toBe(2);
  });

  test('SSM ThrottlingException is retried by the SDK, then succeeds', async () => {
    // GIVEN
    const handler = scriptedHandler([
      { statusCode: 400, body: '{"__type":"ThrottlingException","message":"Rate exceeded"}', headers: { 'content-type': 'application/x-amz-json-1.1' } },
      { statusCode: 200, body: '{"Parameter":{"Name":"/p","Value":"ami-1"}}', headers: { 'content-type': 'application/x-amz-json-1.1' } },
    ]);
    const client = new SSMClient({ ...CLIENT_CONFIG, ...offline, requestHandler: handler });

    // WHEN
    const out = await client.send(new GetParameterCommand({ Name: '/p' }));

    // THEN
    expect(out.Parameter?.Value).toBe('ami-1');
    expect(handler.requests).toBe(2);
  });

  test('after maxAttempts the throttling error reaches the caller (for the state machine\'s Retry)', async () => {
    // GIVEN
    const handler = scriptedHandler([
      { statusCode: 400, body: '{"__type":"ThrottlingException","message":"Rate exceeded"}', headers: { 'content-type': 'application/x-amz-json-1.1' } },
    ]);
    const client = new SSMClient({ ...CLIENT_CONFIG, ...offline, maxAttempts: 2, requestHandler: handler });

    // WHEN / THEN
    await expect(client.send(new GetParameterCommand({ Name: '/p' }))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(handler.requests).toBe(2);
  });
});
