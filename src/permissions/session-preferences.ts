/**
 * Decisions about the Session Manager preferences document, as plain functions over
 * plain data (no SDK calls): parse what is in the account, merge our settings into it,
 * compare, and decide what a stack deletion must undo.
 *
 * Used by `session-manager-preferences.lambda.ts`; not part of the public API.
 */

/** The account's Session Manager preferences ("regional settings") document. */
export const PREFERENCES_DOCUMENT_NAME = 'SSM-SessionManagerRunShell';

/**
 * The document tag in which the custom resource journals what it must restore on delete:
 * `created` (it created the document) or `version:<n>` (the default version it replaced).
 * Written before the first change, so a retried or rolled-back request still knows the
 * state from before the stack, whatever happened in between.
 */
export const RESTORE_TAG_KEY = 'cdk-ec2-reset-access:restore';

/** Content of a Session document, schema 1.0 (the fields this module reads; others are kept). */
export interface SessionPreferences {
  readonly schemaVersion: string;
  readonly sessionType: string;
  readonly description?: string;
  readonly inputs: Record<string, unknown>;
  readonly [field: string]: unknown;
}

/** What the stack wants in the preferences. */
export interface PreferenceSettings {
  /** Key id, alias or ARN that Session Manager encrypts session data with. */
  readonly kmsKeyId: string;
  /** Other `inputs` fields the stack sets explicitly; everything else is kept as found. */
  readonly inputs: Record<string, unknown>;
}

/** The existing preferences document cannot be merged safely; nothing was changed. */
export class MalformedPreferencesDocument extends Error {
  public override readonly name = 'MalformedPreferencesDocument';
}

/** The custom resource was invoked with properties it cannot use. */
export class InvalidPreferencesRequest extends Error {
  public override readonly name = 'InvalidPreferencesRequest';
}

/**
 * Parses the content of an existing preferences document and checks it is a Session
 * document this module can merge into. Throws `MalformedPreferencesDocument` naming the
 * document, the problem and how to fix it.
 */
export function parsePreferences(content: string, documentName: string = PREFERENCES_DOCUMENT_NAME): SessionPreferences {
  const fix = 'Fix it in the Systems Manager console (Session Manager > Preferences > Edit) or delete it ' +
    `(aws ssm delete-document --name ${documentName}), then deploy again. The document was not changed.`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    throw new MalformedPreferencesDocument(
      `The Session Manager preferences document ${documentName} is not valid JSON (${(error as Error).message}). ${fix}`);
  }
  if (!isPlainObject(parsed)) {
    throw new MalformedPreferencesDocument(
      `The Session Manager preferences document ${documentName} is not a JSON object. ${fix}`);
  }
  if (parsed.schemaVersion !== '1.0') {
    throw new MalformedPreferencesDocument(
      `The Session Manager preferences document ${documentName} has schemaVersion ${JSON.stringify(parsed.schemaVersion)}; ` +
        `expected "1.0". ${fix}`);
  }
  if (parsed.sessionType !== 'Standard_Stream') {
    throw new MalformedPreferencesDocument(
      `The Session Manager preferences document ${documentName} has sessionType ${JSON.stringify(parsed.sessionType)}; ` +
        `expected "Standard_Stream". ${fix}`);
  }
  if (parsed.inputs !== undefined && !isPlainObject(parsed.inputs)) {
    throw new MalformedPreferencesDocument(
      `The Session Manager preferences document ${documentName} has an "inputs" field that is not an object. ${fix}`);
  }
  return { ...parsed, inputs: (parsed.inputs as Record<string, unknown> | undefined) ?? {} } as SessionPreferences;
}

/**
 * The preferences the stack wants: the existing ones with `inputs.kmsKeyId` and the
 * explicitly set inputs replaced, every other field kept; or a new document when there is none.
 */
export function desiredPreferences(existing: SessionPreferences | undefined, settings: PreferenceSettings): SessionPreferences {
  const base: SessionPreferences = existing ?? {
    schemaVersion: '1.0',
    description: 'Document to hold regional settings for Session Manager',
    sessionType: 'Standard_Stream',
    inputs: {},
  };
  return {
    ...base,
    inputs: { ...base.inputs, ...settings.inputs, kmsKeyId: settings.kmsKeyId },
  };
}

/** Whether two preference documents say the same thing (field order and formatting aside). */
export function samePreferences(a: SessionPreferences, b: SessionPreferences): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The document content to publish. */
export function renderPreferences(preferences: SessionPreferences): string {
  return JSON.stringify(preferences, undefined, 2);
}

/**
 * The `inputs` the stack sets explicitly, from the custom resource's `Inputs` property
 * (a JSON object string, because CloudFormation turns other property values into strings).
 */
export function parseInputOverrides(json: string | undefined): Record<string, unknown> {
  if (json === undefined || json === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new InvalidPreferencesRequest(`The Inputs property must be a JSON object, got ${JSON.stringify(json)}.`);
  }
  if (!isPlainObject(parsed)) {
    throw new InvalidPreferencesRequest(`The Inputs property must be a JSON object, got ${JSON.stringify(json)}.`);
  }
  if ('kmsKeyId' in parsed) {
    throw new InvalidPreferencesRequest('The Inputs property must not set kmsKeyId; use the KmsKeyId property.');
  }
  return parsed;
}

/** What there was before the stack changed the preferences. */
export type RestoreState =
  | { readonly kind: 'created' }
  | { readonly kind: 'version'; readonly version: string };

/** The tag value that journals a restore state. */
export function restoreTagValue(state: RestoreState): string {
  return state.kind === 'created' ? 'created' : `version:${state.version}`;
}

/** Reads the restore journal from a document's tags; `undefined` when there is none (or it is not ours to read). */
export function restoreStateFromTags(tags: ReadonlyArray<{ readonly Key?: string; readonly Value?: string }> | undefined): RestoreState | undefined {
  const value = tags?.find(tag => tag.Key === RESTORE_TAG_KEY)?.Value;
  if (value === 'created') return { kind: 'created' };
  const match = /^version:(\d+)$/.exec(value ?? '');
  return match ? { kind: 'version', version: match[1] } : undefined;
}

/** What a stack deletion does to the preferences document. */
export type DeleteAction =
  | { readonly action: 'delete-document'; readonly reason: string }
  | { readonly action: 'restore-version'; readonly version: string; readonly reason: string }
  | { readonly action: 'keep'; readonly reason: string };

/** The preferences document as found at delete time. */
export interface CurrentDocument {
  readonly defaultVersion: string;
  /** The default version's content; `undefined` when it is not a valid preferences document. */
  readonly preferences?: SessionPreferences;
}

/**
 * Decides how a stack deletion undoes the change, undoing only what is still ours: when the
 * default version no longer uses the stack's key, someone has changed the preferences since,
 * and their change is left alone.
 */
export function planDelete(journal: RestoreState | undefined, current: CurrentDocument, kmsKeyId: string): DeleteAction {
  if (!journal) {
    return { action: 'keep', reason: 'no restore journal on the document: this resource did not change it' };
  }
  if (current.preferences?.inputs.kmsKeyId !== kmsKeyId) {
    return { action: 'keep', reason: 'the default version no longer uses this key: the preferences were changed since, and are left as they are' };
  }
  if (journal.kind === 'created') {
    return { action: 'delete-document', reason: 'this resource created the document' };
  }
  if (journal.version === current.defaultVersion) {
    return { action: 'keep', reason: `version ${journal.version}, the one from before, is already the default` };
  }
  return { action: 'restore-version', version: journal.version, reason: `version ${journal.version} was the default before` };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    return `{${Object.keys(value).filter(key => value[key] !== undefined).sort()
      .map(key => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
