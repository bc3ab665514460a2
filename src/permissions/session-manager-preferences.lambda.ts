import * as http from 'node:http';
import * as https from 'node:https';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  AddTagsToResourceCommand,
  CreateDocumentCommand,
  DeleteDocumentCommand,
  DescribeDocumentCommand,
  DocumentDescription,
  GetDocumentCommand,
  RemoveTagsFromResourceCommand,
  SSMClient,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import {
  desiredPreferences,
  InvalidPreferencesRequest,
  parseInputOverrides,
  parsePreferences,
  planDelete,
  PreferenceSettings,
  renderPreferences,
  RESTORE_TAG_KEY,
  restoreStateFromTags,
  restoreTagValue,
  SessionPreferences,
  samePreferences,
} from './session-preferences';

const logger = new Logger({ serviceName: 'session-manager-preferences' });
const ssm = new SSMClient({});

/** How long before the Lambda timeout the handler gives up and reports a failure, so CloudFormation never waits for an hour. */
const DEADLINE_MARGIN_MS = 10_000;

/** What the custom resource reports back to CloudFormation. */
export interface PreferencesResult {
  readonly physicalResourceId: string;
  readonly data: Record<string, string>;
}

/** The body CloudFormation expects at the pre-signed ResponseURL. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** Sends the response to CloudFormation. */
export type ResponseSender = (responseUrl: string, response: CustomResourceResponse) => Promise<void>;

/**
 * Creates or updates the Session Manager preferences document so that it encrypts
 * sessions with the stack's KMS key, and on delete restores what was there before.
 * Invoked directly by CloudFormation (the function is the custom resource's service token),
 * so it always answers at the ResponseURL, also when it fails or runs out of time.
 */
export function createHandler(send: ResponseSender = putResponse) {
  return async (event: CloudFormationCustomResourceEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<void> => {
    const { ResponseURL: _secret, ...loggable } = event; // the pre-signed URL is a credential: never logged
    logger.info('Custom resource request', { event: loggable });
    let response: CustomResourceResponse;
    try {
      const result = await withDeadline(onEvent(event), context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS);
      response = { ...identity(event), Status: 'SUCCESS', PhysicalResourceId: result.physicalResourceId, Data: result.data };
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      logger.error('Request failed', { errorName: err.name, errorMessage: err.message });
      response = {
        ...identity(event),
        Status: 'FAILED',
        Reason: `${err.name}: ${err.message}`.slice(0, 1000),
        // A failed Create still needs an id; rollback then sends a Delete, which undoes only what the journal recorded.
        PhysicalResourceId: 'PhysicalResourceId' in event ? event.PhysicalResourceId : physicalResourceIdOf(event),
      };
    }
    await send(event.ResponseURL, response);
  };
}

export const handler = createHandler();

/** Handles one custom resource request; throws on failure. */
export async function onEvent(event: CloudFormationCustomResourceEvent): Promise<PreferencesResult> {
  const documentName = requiredString(event.ResourceProperties, 'DocumentName');
  const settings: PreferenceSettings = {
    kmsKeyId: requiredString(event.ResourceProperties, 'KmsKeyId'),
    inputs: parseInputOverrides(event.ResourceProperties.Inputs as string | undefined),
  };
  // The physical id never changes: a new one would make CloudFormation delete "the old resource", i.e. undo the change.
  const physicalResourceId = physicalResourceIdOf(event);
  if (event.RequestType === 'Delete') {
    await restorePreferences(documentName, settings.kmsKeyId);
    return { physicalResourceId, data: {} };
  }
  const defaultVersion = await applyPreferences(documentName, settings);
  return { physicalResourceId, data: { DocumentName: documentName, DefaultVersion: defaultVersion } };
}

/** Makes the default version of the document carry the settings; returns the default version. */
async function applyPreferences(documentName: string, settings: PreferenceSettings): Promise<string> {
  let document = await describeDocument(documentName);
  if (!document) {
    const created = await createDocument(documentName, settings);
    if (created) return created;
    document = await describeDocument(documentName); // created concurrently: merge into it
    if (!document) throw new Error(`${documentName} was reported to exist but cannot be described; retry the deployment.`);
  }

  const defaultVersion = document.DefaultVersion!;
  const existing = await getPreferences(documentName, defaultVersion); // throws if malformed: nothing changed yet
  const desired = desiredPreferences(existing, settings);

  // Journal what to restore before the first change, unless an earlier attempt (or deployment) already did.
  if (!restoreStateFromTags(document.Tags)) {
    await ssm.send(new AddTagsToResourceCommand({
      ResourceType: 'Document',
      ResourceId: documentName,
      Tags: [{ Key: RESTORE_TAG_KEY, Value: restoreTagValue({ kind: 'version', version: defaultVersion }) }],
    }));
  }

  if (samePreferences(existing, desired)) {
    logger.info('Preferences already as wanted; no new version', { documentName, defaultVersion });
    return defaultVersion;
  }

  const version = await publishVersion(documentName, document, desired);
  await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: documentName, DocumentVersion: version }));
  logger.info('Published preferences and made them the default', { documentName, previousDefaultVersion: defaultVersion, defaultVersion: version });
  return version;
}

/** Creates the document; returns its version, or `undefined` when it turned out to exist already. */
async function createDocument(documentName: string, settings: PreferenceSettings): Promise<string | undefined> {
  try {
    const response = await ssm.send(new CreateDocumentCommand({
      Name: documentName,
      Content: renderPreferences(desiredPreferences(undefined, settings)),
      DocumentType: 'Session',
      DocumentFormat: 'JSON',
      Tags: [{ Key: RESTORE_TAG_KEY, Value: restoreTagValue({ kind: 'created' }) }],
    }));
    logger.info('Created the preferences document', { documentName });
    return response.DocumentDescription?.DocumentVersion ?? '1';
  } catch (error) {
    if (errorName(error) === 'DocumentAlreadyExists') return undefined;
    throw error;
  }
}

/**
 * Publishes the desired content as a new version and returns its number. Converges on
 * retry: a newest version that already holds the content (an earlier attempt that stopped
 * before setting the default) is reused rather than duplicated.
 */
async function publishVersion(documentName: string, document: DocumentDescription, desired: SessionPreferences): Promise<string> {
  const latest = document.LatestVersion;
  if (latest && latest !== document.DefaultVersion && await holds(documentName, latest, desired)) {
    logger.info('The newest version already holds the preferences; reusing it', { documentName, version: latest });
    return latest;
  }
  try {
    const response = await ssm.send(new UpdateDocumentCommand({
      Name: documentName,
      Content: renderPreferences(desired),
      DocumentVersion: '$LATEST',
      DocumentFormat: 'JSON',
    }));
    return response.DocumentDescription!.DocumentVersion!;
  } catch (error) {
    if (errorName(error) !== 'DuplicateDocumentContent') throw error;
    // The content is already published (a concurrent or earlier attempt): find it as the newest version.
    const now = await describeDocument(documentName);
    if (now?.LatestVersion && await holds(documentName, now.LatestVersion, desired)) return now.LatestVersion;
    throw new Error(`SSM reports the preferences of ${documentName} as already published, but its newest version does not hold them; ` +
      'make the version you want the default in Systems Manager > Documents, then retry.');
  }
}

/** Restores what the journal says was there before, if the preferences are still ours. */
async function restorePreferences(documentName: string, kmsKeyId: string): Promise<void> {
  const document = await describeDocument(documentName);
  if (!document) {
    logger.info('Preferences document is already gone; nothing to restore', { documentName });
    return;
  }
  const defaultVersion = document.DefaultVersion!;
  let preferences: SessionPreferences | undefined;
  try {
    preferences = await getPreferences(documentName, defaultVersion);
  } catch (error) {
    if (errorName(error) !== 'MalformedPreferencesDocument') throw error;
  }
  const plan = planDelete(restoreStateFromTags(document.Tags), { defaultVersion, preferences }, kmsKeyId);
  logger.info('Delete plan', { documentName, ...plan });

  if (plan.action === 'delete-document') {
    await ssm.send(new DeleteDocumentCommand({ Name: documentName }));
    return;
  }
  if (plan.action === 'restore-version') {
    try {
      await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: documentName, DocumentVersion: plan.version }));
    } catch (error) {
      if (errorName(error) !== 'InvalidDocumentVersion') throw error;
      // Failing here would block the stack deletion for good; the preferences stay as they are, and the log says so.
      logger.warn('The version to restore no longer exists; preferences left as they are', { documentName, version: plan.version });
    }
  }
  if (restoreStateFromTags(document.Tags)) {
    await ssm.send(new RemoveTagsFromResourceCommand({ ResourceType: 'Document', ResourceId: documentName, TagKeys: [RESTORE_TAG_KEY] }));
  }
}

async function describeDocument(documentName: string): Promise<DocumentDescription | undefined> {
  try {
    const response = await ssm.send(new DescribeDocumentCommand({ Name: documentName }));
    return response.Document;
  } catch (error) {
    if (errorName(error) === 'InvalidDocument') return undefined; // SSM's "does not exist"
    throw error;
  }
}

async function getPreferences(documentName: string, version: string): Promise<SessionPreferences> {
  const response = await ssm.send(new GetDocumentCommand({ Name: documentName, DocumentVersion: version, DocumentFormat: 'JSON' }));
  return parsePreferences(response.Content ?? '', documentName);
}

async function holds(documentName: string, version: string, desired: SessionPreferences): Promise<boolean> {
  try {
    return samePreferences(await getPreferences(documentName, version), desired);
  } catch (error) {
    if (errorName(error) === 'MalformedPreferencesDocument') return false;
    throw error;
  }
}

function physicalResourceIdOf(event: CloudFormationCustomResourceEvent): string {
  const name = event.ResourceProperties.DocumentName;
  return typeof name === 'string' && name !== '' ? name : event.LogicalResourceId;
}

function requiredString(properties: Record<string, unknown>, name: string): string {
  const value = properties[name];
  if (typeof value !== 'string' || value === '') {
    throw new InvalidPreferencesRequest(`The ${name} property is required.`);
  }
  return value;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function identity(event: CloudFormationCustomResourceEvent) {
  return { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(
      'The request did not finish before the Lambda timeout. Nothing is half-done that a retry or the rollback cannot finish.'),
    { name: 'PreferencesTimeout' })), Math.max(ms, 0));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** PUTs the response to the pre-signed S3 URL, the way cfn-response does. */
export function putResponse(responseUrl: string, response: CustomResourceResponse): Promise<void> {
  const body = JSON.stringify(response);
  const url = new URL(responseUrl);
  const request = url.protocol === 'http:' ? http.request : https.request;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'PUT',
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
    }, res => {
      res.resume();
      res.on('end', () => (res.statusCode && res.statusCode < 300
        ? resolve()
        : reject(new Error(`CloudFormation response upload failed with HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
