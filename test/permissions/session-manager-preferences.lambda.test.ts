import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  AddTagsToResourceCommand,
  CreateDocumentCommand,
  DeleteDocumentCommand,
  DescribeDocumentCommand,
  DocumentAlreadyExists,
  DuplicateDocumentContent,
  GetDocumentCommand,
  InvalidDocument,
  InvalidDocumentVersion,
  RemoveTagsFromResourceCommand,
  SSMClient,
  Tag,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest'; // matcher types (the matchers are loaded by the jest setup)
import {
  createHandler,
  CustomResourceResponse,
  onEvent,
  putResponse,
} from '../../src/permissions/session-manager-preferences.lambda';
import { captureLogs } from '../workflow/fixtures';

const ssm = mockClient(SSMClient);
const NAME = 'SSM-SessionManagerRunShell';
const TAG = 'cdk-ec2-reset-access:restore';
const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/9999abcd-12ab-34cd-56ef-1234567890ab';

/** Preferences as the console saves them, with logging and a shell profile the stack must not lose. */
const CONSOLE_PREFERENCES = {
  schemaVersion: '1.0',
  description: 'Document to hold regional settings for Session Manager',
  sessionType: 'Standard_Stream',
  inputs: {
    s3BucketName: 'session-logs',
    s3KeyPrefix: 'ssm/',
    s3EncryptionEnabled: true,
    cloudWatchLogGroupName: '/ssm/sessions',
    cloudWatchEncryptionEnabled: true,
    cloudWatchStreamingEnabled: false,
    kmsKeyId: '',
    runAsEnabled: false,
    runAsDefaultUser: '',
    idleSessionTimeout: '20',
    maxSessionDuration: '',
    shellProfile: { windows: 'Set-Location C:\\', linux: '' },
  },
};

/**
 * A Session document as SSM keeps it: numbered versions, a default version, tags. Its
 * errors are SSM's (InvalidDocument when absent, DuplicateDocumentContent for the same
 * content as $LATEST, DocumentAlreadyExists, InvalidDocumentVersion).
 */
class FakeDocument {
  public versions: string[] = [];
  public defaultVersion = 0;
  public tags: Tag[] = [];
  public exists = false;

  constructor(initialVersions?: string[], defaultVersion?: number) {
    if (initialVersions) {
      this.exists = true;
      this.versions = [...initialVersions];
      this.defaultVersion = defaultVersion ?? initialVersions.length;
    }
    ssm.on(DescribeDocumentCommand, { Name: NAME }).callsFake(() => {
      this.mustExist();
      return {
        Document: {
          Name: NAME,
          DocumentType: 'Session',
          DefaultVersion: String(this.defaultVersion),
          LatestVersion: String(this.versions.length),
          Tags: this.tags.length ? [...this.tags] : undefined,
        },
      };
    });
    ssm.on(GetDocumentCommand).callsFake(input => {
      this.mustExist();
      return { Name: NAME, DocumentVersion: input.DocumentVersion, Content: this.content(input.DocumentVersion) };
    });
    ssm.on(CreateDocumentCommand).callsFake(input => {
      if (this.exists) throw new DocumentAlreadyExists({ message: 'Document with same name already exists', $metadata: {} });
      this.exists = true;
      this.versions = [input.Content];
      this.defaultVersion = 1;
      this.tags = [...(input.Tags ?? [])];
      return { DocumentDescription: { Name: NAME, DocumentVersion: '1' } };
    });
    ssm.on(UpdateDocumentCommand).callsFake(input => {
      this.mustExist();
      if (this.content(input.DocumentVersion) === input.Content) {
        throw new DuplicateDocumentContent({ message: 'The content of the document matches another document', $metadata: {} });
      }
      this.versions.push(input.Content);
      return { DocumentDescription: { Name: NAME, DocumentVersion: String(this.versions.length) } };
    });
    ssm.on(UpdateDocumentDefaultVersionCommand).callsFake(input => {
      this.mustExist();
      this.content(input.DocumentVersion);
      this.defaultVersion = Number(input.DocumentVersion);
      return { Description: { Name: NAME, DefaultVersion: input.DocumentVersion } };
    });
    ssm.on(DeleteDocumentCommand).callsFake(() => {
      this.mustExist();
      this.exists = false;
      this.versions = [];
      this.tags = [];
      return {};
    });
    ssm.on(AddTagsToResourceCommand).callsFake(input => {
      this.mustExist();
      this.tags = [...this.tags.filter(t => !input.Tags.some((n: Tag) => n.Key === t.Key)), ...input.Tags];
      return {};
    });
    ssm.on(RemoveTagsFromResourceCommand).callsFake(input => {
      this.mustExist();
      this.tags = this.tags.filter(t => !input.TagKeys.includes(t.Key));
      return {};
    });
  }

  /** The default version's content, parsed. */
  get preferences(): any {
    return JSON.parse(this.versions[this.defaultVersion - 1]);
  }

  private content(version: string | undefined): string {
    const index = version === undefined ? this.defaultVersion : version === '$LATEST' ? this.versions.length : Number(version);
    const content = this.versions[index - 1];
    if (content === undefined) throw new InvalidDocumentVersion({ message: `Version ${version} does not exist`, $metadata: {} });
    return content;
  }

  private mustExist(): void {
    if (!this.exists) throw new InvalidDocument({ message: 'Document does not exist', $metadata: {} });
  }
}

function event(requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, string> = {}): CloudFormationCustomResourceEvent {
  const ResourceProperties = { ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:fn', DocumentName: NAME, KmsKeyId: KEY, Inputs: '{}', ...properties };
  const common = {
    ServiceToken: ResourceProperties.ServiceToken,
    ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/signed?X-Amz-Signature=secret',
    StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/S/1',
    RequestId: 'req-1',
    LogicalResourceId: 'Preferences',
    ResourceType: 'Custom::SessionManagerPreferences',
    ResourceProperties,
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Update') return { ...common, RequestType: 'Update', PhysicalResourceId: NAME, OldResourceProperties: ResourceProperties };
  return { ...common, RequestType: 'Delete', PhysicalResourceId: NAME };
}

beforeEach(() => {
  ssm.reset();
  // The handler's JSON logs are expected; keep them out of the test output.
  captureLogs();
});
afterEach(() => jest.restoreAllMocks());

describe('Create', () => {
  test('document absent: creates it as a Session document, journaled as created', async () => {
    // GIVEN
    const doc = new FakeDocument();

    // WHEN
    const result = await onEvent(event('Create', { Inputs: '{"idleSessionTimeout":"15"}' }));

    // THEN
    expect(ssm).toHaveReceivedCommandWith(CreateDocumentCommand, {
      Name: NAME,
      DocumentType: 'Session',
      DocumentFormat: 'JSON',
      Tags: [{ Key: TAG, Value: 'created' }],
    });
    expect(doc.preferences).toEqual({
      schemaVersion: '1.0',
      description: 'Document to hold regional settings for Session Manager',
      sessionType: 'Standard_Stream',
      inputs: { idleSessionTimeout: '15', kmsKeyId: KEY },
    });
    expect(result).toEqual({ physicalResourceId: NAME, data: { DocumentName: NAME, DefaultVersion: '1' } });
    expect(ssm).not.toHaveReceivedCommand(UpdateDocumentCommand);
  });

  test('document present with other preferences: keeps them, publishes a new version and makes it the default', async () => {
    // GIVEN
    const doc = new FakeDocument([JSON.stringify({ ...CONSOLE_PREFERENCES, inputs: {} }), JSON.stringify(CONSOLE_PREFERENCES)], 2);

    // WHEN
    const result = await onEvent(event('Create'));

    // THEN
    expect(ssm).toHaveReceivedCommandWith(GetDocumentCommand, { Name: NAME, DocumentVersion: '2', DocumentFormat: 'JSON' });
    expect(ssm).toHaveReceivedCommandWith(AddTagsToResourceCommand, {
      ResourceType: 'Document', ResourceId: NAME, Tags: [{ Key: TAG, Value: 'version:2' }],
    });
    expect(ssm).toHaveReceivedCommandWith(UpdateDocumentCommand, { Name: NAME, DocumentVersion: '$LATEST', DocumentFormat: 'JSON' });
    expect(ssm).toHaveReceivedCommandWith(UpdateDocumentDefaultVersionCommand, { Name: NAME, DocumentVersion: '3' });
    expect(doc.defaultVersion).toBe(3);
    expect(doc.preferences).toEqual({ ...CONSOLE_PREFERENCES, inputs: { ...CONSOLE_PREFERENCES.inputs, kmsKeyId: KEY } });
    expect(result.data.DefaultVersion).toBe('3');
    expect(ssm).not.toHaveReceivedCommand(CreateDocumentCommand);
  });

  test('the journal is written before the document is changed', async () => {
    // GIVEN
    new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES)]);

    // WHEN
    await onEvent(event('Create'));

    // THEN
    const order = ssm.calls().map(call => call.args[0].constructor.name);
    expect(order.indexOf('AddTagsToResourceCommand')).toBeLessThan(order.indexOf('UpdateDocumentCommand'));
  });

  test('properties set explicitly override what is found', async () => {
    // GIVEN
    const doc = new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES)]);

    // WHEN
    await onEvent(event('Create', { Inputs: '{"idleSessionTimeout":"10","runAsEnabled":true,"runAsDefaultUser":"ops"}' }));

    // THEN
    expect(doc.preferences.inputs).toEqual({
      ...CONSOLE_PREFERENCES.inputs, kmsKeyId: KEY, idleSessionTimeout: '10', runAsEnabled: true, runAsDefaultUser: 'ops',
    });
  });

  test('document present with identical content (formatted differently): no new version', async () => {
    // GIVEN
    const same = { ...CONSOLE_PREFERENCES, inputs: { ...CONSOLE_PREFERENCES.inputs, kmsKeyId: KEY } };
    const doc = new FakeDocument([JSON.stringify(same)]);

    // WHEN
    const result = await onEvent(event('Create'));

    // THEN
    expect(ssm).not.toHaveReceivedCommand(UpdateDocumentCommand);
    expect(ssm).not.toHaveReceivedCommand(UpdateDocumentDefaultVersionCommand);
    expect(doc.versions).toHaveLength(1);
    expect(result.data.DefaultVersion).toBe('1');
  });

  test.each([
    ['not JSON', 'schemaVersion: 1.0\nsessionType: Standard_Stream', /SSM-SessionManagerRunShell is not valid JSON/],
    ['a wrong schema', JSON.stringify({ ...CONSOLE_PREFERENCES, schemaVersion: '2.2' }), /schemaVersion "2\.2"; expected "1\.0"/],
    ['a wrong session type', JSON.stringify({ ...CONSOLE_PREFERENCES, sessionType: 'Port' }), /sessionType "Port"; expected "Standard_Stream"/],
  ])('malformed existing document (%s): a clear error, nothing overwritten', async (_what, content, message) => {
    // GIVEN
    const doc = new FakeDocument([content]);

    // WHEN / THEN
    await expect(onEvent(event('Create'))).rejects.toThrow(message);
    await expect(onEvent(event('Create'))).rejects.toThrow(/Session Manager > Preferences.*The document was not changed/);
    expect(ssm).not.toHaveReceivedCommand(UpdateDocumentCommand);
    expect(ssm).not.toHaveReceivedCommand(UpdateDocumentDefaultVersionCommand);
    expect(ssm).not.toHaveReceivedCommand(AddTagsToResourceCommand);
    expect(doc.versions).toEqual([content]);
  });

  test('created by someone else between the check and the create: merges into it instead', async () => {
    // GIVEN: absent at DescribeDocument, present at CreateDocument
    const doc = new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES)]);
    ssm.on(DescribeDocumentCommand).rejectsOnce(new InvalidDocument({ message: 'Document does not exist', $metadata: {} }))
      .callsFake(() => ({ Document: { Name: NAME, DefaultVersion: '1', LatestVersion: String(doc.versions.length) } }));

    // WHEN
    await onEvent(event('Create'));

    // THEN
    expect(ssm).toHaveReceivedCommandTimes(CreateDocumentCommand, 1);
    expect(doc.preferences.inputs).toEqual({ ...CONSOLE_PREFERENCES.inputs, kmsKeyId: KEY });
    expect(ssm).toHaveReceivedCommandWith(AddTagsToResourceCommand, { Tags: [{ Key: TAG, Value: 'version:1' }] });
  });

  test('rejects a request without KmsKeyId', async () => {
    await expect(onEvent(event('Create', { KmsKeyId: '' }))).rejects.toThrow(/KmsKeyId property is required/);
    expect(ssm.calls()).toHaveLength(0);
  });
});

describe('idempotent retries', () => {
  test('a retry after the new version was published but not made default reuses it (no duplicate version)', async () => {
    // GIVEN: the first attempt stops at UpdateDocumentDefaultVersion
    const doc = new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES)]);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    ssm.on(UpdateDocumentDefaultVersionCommand).rejectsOnce(throttled).callsFake(input => {
      doc.defaultVersion = Number(input.DocumentVersion);
      return {};
    });
    await expect(onEvent(event('Create'))).rejects.toThrow(/Rate exceeded/);
    expect(doc.versions).toHaveLength(2);
    expect(doc.defaultVersion).toBe(1);

    // WHEN
    await onEvent(event('Create'));

    // THEN
    expect(doc.versions).toHaveLength(2);
    expect(doc.defaultVersion).toBe(2);
    expect(ssm).toHaveReceivedCommandTimes(UpdateDocumentCommand, 1);
    expect(doc.tags).toEqual([{ Key: TAG, Value: 'version:1' }]); // still the state from before the stack
  });

  test('DuplicateDocumentContent from UpdateDocument: the content is there already, it is still made the default', async () => {
    // GIVEN: the newest version holds the content, but DescribeDocument (eventually consistent) did not show it yet
    const wanted = JSON.stringify({ ...CONSOLE_PREFERENCES, inputs: { ...CONSOLE_PREFERENCES.inputs, kmsKeyId: KEY } }, undefined, 2);
    const doc = new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES), wanted], 1);
    ssm.on(DescribeDocumentCommand, { Name: NAME })
      .resolvesOnce({ Document: { Name: NAME, DefaultVersion: '1', LatestVersion: '1' } })
      .resolves({ Document: { Name: NAME, DefaultVersion: '1', LatestVersion: '2' } });

    // WHEN
    await onEvent(event('Create'));

    // THEN
    expect(ssm).toHaveReceivedCommand(UpdateDocumentCommand);
    expect(ssm).toHaveReceivedCommandWith(UpdateDocumentDefaultVersionCommand, { Name: NAME, DocumentVersion: '2' });
    expect(doc.versions).toHaveLength(2);
    expect(doc.defaultVersion).toBe(2);
  });

  test('a retry after everything was done changes nothing and keeps the original journal', async () => {
    // GIVEN
    const doc = new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES)]);
    await onEvent(event('Create'));
    ssm.resetHistory();

    // WHEN
    await onEvent(event('Create'));

    // THEN
    expect(ssm).not.toHaveReceivedCommand(UpdateDocumentCommand);
    expect(ssm).not.toHaveReceivedCommand(AddTagsToResourceCommand);
    expect(doc.tags).toEqual([{ Key: TAG, Value: 'version:1' }]);
  });

  test('a retry after the document was created keeps "created" as the state to restore', async () => {
    // GIVEN
    const doc = new FakeDocument();
    await onEvent(event('Create'));

    // WHEN
    await onEvent(event('Create'));
    await onEvent(event('Delete'));

    // THEN
    expect(ssm).toHaveReceivedCommandTimes(CreateDocumentCommand, 1);
    expect(doc.exists).toBe(false);
  });

  test('a repeated Delete converges', async () => {
    // GIVEN
    const doc = new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES)]);
    await onEvent(event('Create'));

    // WHEN
    await onEvent(event('Delete'));
    await onEvent(event('Delete'));

    // THEN
    expect(doc.defaultVersion).toBe(1);
    expect(ssm).toHaveReceivedCommandTimes(UpdateDocumentDefaultVersionCommand, 2); // one to apply, one to restore
  });
});

describe('Update', () => {
  test('re-applies the merge with the new key, and Delete still restores the state from before the stack', async () => {
    // GIVEN
    const doc = new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES)]);
    await onEvent(event('Create'));

    // WHEN
    const result = await onEvent(event('Update', { KmsKeyId: OTHER_KEY, Inputs: '{"maxSessionDuration":"60"}' }));

    // THEN
    expect(result.physicalResourceId).toBe(NAME);
    expect(doc.defaultVersion).toBe(3);
    expect(doc.preferences.inputs).toEqual({ ...CONSOLE_PREFERENCES.inputs, kmsKeyId: OTHER_KEY, maxSessionDuration: '60' });

    // AND WHEN
    await onEvent(event('Delete', { KmsKeyId: OTHER_KEY }));

    // THEN
    expect(doc.defaultVersion).toBe(1);
  });

  test('recreates the document if it was deleted out of band, journaled as created', async () => {
    // GIVEN
    const doc = new FakeDocument();

    // WHEN
    await onEvent(event('Update'));

    // THEN
    expect(doc.tags).toEqual([{ Key: TAG, Value: 'created' }]);
  });
});

describe('Delete', () => {
  test('restores the previous default version and removes the journal', async () => {
    // GIVEN
    const doc = new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES)]);
    await onEvent(event('Create'));
    expect(doc.defaultVersion).toBe(2);
    ssm.resetHistory();

    // WHEN
    const result = await onEvent(event('Delete'));

    // THEN
    expect(ssm).toHaveReceivedCommandWith(UpdateDocumentDefaultVersionCommand, { Name: NAME, DocumentVersion: '1' });
    expect(ssm).toHaveReceivedCommandWith(RemoveTagsFromResourceCommand, { ResourceType: 'Document', ResourceId: NAME, TagKeys: [TAG] });
    expect(ssm).not.toHaveReceivedCommand(DeleteDocumentCommand);
    expect(doc.defaultVersion).toBe(1);
    expect(doc.preferences).toEqual(CONSOLE_PREFERENCES);
    expect(doc.tags).toEqual([]);
    expect(result).toEqual({ physicalResourceId: NAME, data: {} });
  });

  test('deletes a document it created', async () => {
    // GIVEN
    const doc = new FakeDocument();
    await onEvent(event('Create'));

    // WHEN
    await onEvent(event('Delete'));

    // THEN
    expect(ssm).toHaveReceivedCommandWith(DeleteDocumentCommand, { Name: NAME });
    expect(doc.exists).toBe(false);
  });

  test('leaves preferences that someone changed since (they no longer use the key)', async () => {
    // GIVEN
    const doc = new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES)]);
    await onEvent(event('Create'));
    doc.versions.push(JSON.stringify({ ...CONSOLE_PREFERENCES, inputs: { ...CONSOLE_PREFERENCES.inputs, kmsKeyId: 'alias/team-key' } }));
    doc.defaultVersion = 3;
    ssm.resetHistory();

    // WHEN
    await onEvent(event('Delete'));

    // THEN
    expect(ssm).not.toHaveReceivedCommand(UpdateDocumentDefaultVersionCommand);
    expect(ssm).not.toHaveReceivedCommand(DeleteDocumentCommand);
    expect(doc.defaultVersion).toBe(3);
    expect(doc.tags).toEqual([]);
  });

  test('after a failed Create that changed nothing (malformed document), the rollback Delete changes nothing', async () => {
    // GIVEN
    const doc = new FakeDocument(['not json']);
    await expect(onEvent(event('Create'))).rejects.toThrow(/not valid JSON/);

    // WHEN
    await onEvent(event('Delete'));

    // THEN
    expect(ssm).not.toHaveReceivedCommand(UpdateDocumentDefaultVersionCommand);
    expect(ssm).not.toHaveReceivedCommand(DeleteDocumentCommand);
    expect(ssm).not.toHaveReceivedCommand(RemoveTagsFromResourceCommand);
    expect(doc.versions).toEqual(['not json']);
  });

  test('a document that is already gone is fine', async () => {
    // GIVEN
    new FakeDocument();

    // WHEN / THEN
    await expect(onEvent(event('Delete'))).resolves.toEqual({ physicalResourceId: NAME, data: {} });
  });

  test('a version to restore that no longer exists does not block the stack deletion', async () => {
    // GIVEN
    const doc = new FakeDocument([JSON.stringify(CONSOLE_PREFERENCES)]);
    await onEvent(event('Create'));
    doc.tags = [{ Key: TAG, Value: 'version:9' }];

    // WHEN
    await onEvent(event('Delete'));

    // THEN
    expect(doc.defaultVersion).toBe(2);
    expect(doc.tags).toEqual([]);
  });
});

describe('handler', () => {
  const context = { getRemainingTimeInMillis: () => 120_000 };

  test('answers SUCCESS at the ResponseURL with the physical id and data', async () => {
    // GIVEN
    new FakeDocument();
    const send = jest.fn<Promise<void>, [string, CustomResourceResponse]>().mockResolvedValue();

    // WHEN
    await createHandler(send)(event('Create'), context);

    // THEN
    expect(send).toHaveBeenCalledWith(expect.stringContaining('X-Amz-Signature'), {
      Status: 'SUCCESS',
      PhysicalResourceId: NAME,
      StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/S/1',
      RequestId: 'req-1',
      LogicalResourceId: 'Preferences',
      Data: { DocumentName: NAME, DefaultVersion: '1' },
    });
  });

  test('answers FAILED with the named error as the reason, never throwing', async () => {
    // GIVEN
    new FakeDocument(['{}']);
    const send = jest.fn<Promise<void>, [string, CustomResourceResponse]>().mockResolvedValue();

    // WHEN
    await createHandler(send)(event('Create'), context);

    // THEN
    const [, response] = send.mock.calls[0];
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(/^MalformedPreferencesDocument: The Session Manager preferences document SSM-SessionManagerRunShell has schemaVersion undefined/);
    expect(response.PhysicalResourceId).toBe(NAME);
  });

  test('answers FAILED before the Lambda timeout when SSM does not answer', async () => {
    // GIVEN
    ssm.on(DescribeDocumentCommand).callsFake(() => new Promise(() => undefined));
    const send = jest.fn<Promise<void>, [string, CustomResourceResponse]>().mockResolvedValue();

    // WHEN
    await createHandler(send)(event('Create'), { getRemainingTimeInMillis: () => 10_050 });

    // THEN
    expect(send.mock.calls[0][1]).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^PreferencesTimeout/) });
  });

  test('putResponse PUTs the JSON body with an empty content type', async () => {
    // GIVEN
    const received: { method?: string; contentType?: string; body: string } = { body: '' };
    const server = http.createServer((req, res) => {
      received.method = req.method;
      received.contentType = req.headers['content-type'];
      req.on('data', chunk => { received.body += chunk; });
      req.on('end', () => res.end());
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const response: CustomResourceResponse = { Status: 'SUCCESS', PhysicalResourceId: NAME, StackId: 's', RequestId: 'r', LogicalResourceId: 'l' };

    // WHEN
    try {
      await putResponse(`http://127.0.0.1:${port}/signed?X-Amz-Signature=x`, response);
    } finally {
      server.close();
    }

    // THEN
    expect(received).toEqual({ method: 'PUT', contentType: '', body: JSON.stringify(response) });
  });
});
