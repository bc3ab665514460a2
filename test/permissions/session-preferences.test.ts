import {
  desiredPreferences,
  parseInputOverrides,
  parsePreferences,
  planDelete,
  RESTORE_TAG_KEY,
  restoreStateFromTags,
  restoreTagValue,
  samePreferences,
  SessionPreferences,
} from '../../src/permissions/session-preferences';

const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** What the console writes when preferences are saved with S3 logging and a shell profile. */
const consoleDocument = {
  schemaVersion: '1.0',
  description: 'Document to hold regional settings for Session Manager',
  sessionType: 'Standard_Stream',
  inputs: {
    s3BucketName: 'session-logs',
    s3KeyPrefix: '',
    s3EncryptionEnabled: true,
    cloudWatchLogGroupName: '/ssm/sessions',
    cloudWatchEncryptionEnabled: true,
    cloudWatchStreamingEnabled: true,
    kmsKeyId: '',
    runAsEnabled: false,
    runAsDefaultUser: '',
    idleSessionTimeout: '20',
    maxSessionDuration: '',
    shellProfile: { windows: '', linux: 'exec bash' },
  },
};

describe('parsePreferences', () => {
  test('reads a Session document as the console writes it', () => {
    // WHEN
    const parsed = parsePreferences(JSON.stringify(consoleDocument));

    // THEN
    expect(parsed).toEqual(consoleDocument);
  });

  test('a document without inputs gets an empty inputs object', () => {
    expect(parsePreferences('{"schemaVersion":"1.0","sessionType":"Standard_Stream"}').inputs).toEqual({});
  });

  test.each([
    ['not JSON', 'schemaVersion: "1.0"', /SSM-SessionManagerRunShell is not valid JSON/],
    ['a JSON array', '[]', /SSM-SessionManagerRunShell is not a JSON object/],
    ['another schema version', '{"schemaVersion":"2.2","sessionType":"Standard_Stream"}', /schemaVersion "2\.2"; expected "1\.0"/],
    ['another session type', '{"schemaVersion":"1.0","sessionType":"InteractiveCommands"}', /sessionType "InteractiveCommands"; expected "Standard_Stream"/],
    ['inputs that are not an object', '{"schemaVersion":"1.0","sessionType":"Standard_Stream","inputs":"x"}', /"inputs" field that is not an object/],
  ])('rejects %s with a message naming the document and what to do', (_what, content, message) => {
    // WHEN / THEN
    expect(() => parsePreferences(content)).toThrow(message);
    expect(() => parsePreferences(content)).toThrow(/delete-document --name SSM-SessionManagerRunShell.*The document was not changed/);
    try {
      parsePreferences(content);
    } catch (error) {
      expect((error as Error).name).toBe('MalformedPreferencesDocument');
    }
  });
});

describe('desiredPreferences', () => {
  test('keeps every field it finds and sets kmsKeyId', () => {
    // GIVEN
    const existing = parsePreferences(JSON.stringify(consoleDocument));

    // WHEN
    const desired = desiredPreferences(existing, { kmsKeyId: KEY, inputs: {} });

    // THEN
    expect(desired).toEqual({ ...consoleDocument, inputs: { ...consoleDocument.inputs, kmsKeyId: KEY } });
  });

  test('the explicitly set inputs override what is found, the rest is kept', () => {
    // GIVEN
    const existing = parsePreferences(JSON.stringify(consoleDocument));

    // WHEN
    const desired = desiredPreferences(existing, { kmsKeyId: KEY, inputs: { idleSessionTimeout: '10', runAsEnabled: true, runAsDefaultUser: 'ops' } });

    // THEN
    expect(desired.inputs).toEqual({
      ...consoleDocument.inputs,
      kmsKeyId: KEY,
      idleSessionTimeout: '10',
      runAsEnabled: true,
      runAsDefaultUser: 'ops',
    });
  });

  test('keeps top-level fields other than inputs', () => {
    // GIVEN
    const existing = parsePreferences(JSON.stringify({ ...consoleDocument, description: 'ours', parameters: { x: 1 } }));

    // WHEN
    const desired = desiredPreferences(existing, { kmsKeyId: KEY, inputs: {} });

    // THEN
    expect(desired).toMatchObject({ description: 'ours', parameters: { x: 1 }, schemaVersion: '1.0', sessionType: 'Standard_Stream' });
  });

  test('without an existing document, builds a minimal Session document', () => {
    expect(desiredPreferences(undefined, { kmsKeyId: KEY, inputs: { maxSessionDuration: '60' } })).toEqual({
      schemaVersion: '1.0',
      description: 'Document to hold regional settings for Session Manager',
      sessionType: 'Standard_Stream',
      inputs: { maxSessionDuration: '60', kmsKeyId: KEY },
    });
  });

  test('does not modify the existing object', () => {
    // GIVEN
    const existing = parsePreferences(JSON.stringify(consoleDocument));

    // WHEN
    desiredPreferences(existing, { kmsKeyId: KEY, inputs: {} });

    // THEN
    expect(existing.inputs.kmsKeyId).toBe('');
  });
});

describe('samePreferences', () => {
  test('ignores field order and formatting', () => {
    // GIVEN
    const a = parsePreferences(JSON.stringify(consoleDocument));
    const reordered = { inputs: { ...consoleDocument.inputs }, sessionType: 'Standard_Stream', description: consoleDocument.description, schemaVersion: '1.0' };
    const b = parsePreferences(JSON.stringify(reordered, undefined, 4));

    // THEN
    expect(samePreferences(a, b)).toBe(true);
  });

  test('sees a changed nested value and a changed type', () => {
    // GIVEN
    const a = parsePreferences(JSON.stringify(consoleDocument));
    const shell = { ...consoleDocument, inputs: { ...consoleDocument.inputs, shellProfile: { windows: 'x', linux: 'exec bash' } } };
    const typed = { ...consoleDocument, inputs: { ...consoleDocument.inputs, runAsEnabled: 'false' } };

    // THEN
    expect(samePreferences(a, shell as SessionPreferences)).toBe(false);
    expect(samePreferences(a, typed as SessionPreferences)).toBe(false);
  });
});

describe('parseInputOverrides', () => {
  test('reads the JSON object, booleans kept as booleans', () => {
    expect(parseInputOverrides('{"runAsEnabled":false,"idleSessionTimeout":"15"}')).toEqual({ runAsEnabled: false, idleSessionTimeout: '15' });
  });

  test('absent means no overrides', () => {
    expect(parseInputOverrides(undefined)).toEqual({});
    expect(parseInputOverrides('')).toEqual({});
  });

  test.each(['nope', '[1]', '{"kmsKeyId":"x"}'])('rejects %s', json => {
    expect(() => parseInputOverrides(json)).toThrow(/Inputs property/);
  });
});

describe('restore journal', () => {
  test('round-trips through the document tag', () => {
    expect(restoreStateFromTags([{ Key: RESTORE_TAG_KEY, Value: restoreTagValue({ kind: 'created' }) }])).toEqual({ kind: 'created' });
    expect(restoreStateFromTags([{ Key: 'team', Value: 'ops' }, { Key: RESTORE_TAG_KEY, Value: restoreTagValue({ kind: 'version', version: '7' }) }]))
      .toEqual({ kind: 'version', version: '7' });
  });

  test('no tag, or a value it did not write, is no journal', () => {
    expect(restoreStateFromTags(undefined)).toBeUndefined();
    expect(restoreStateFromTags([{ Key: RESTORE_TAG_KEY, Value: 'version:latest' }])).toBeUndefined();
  });
});

describe('planDelete', () => {
  const ours = desiredPreferences(undefined, { kmsKeyId: KEY, inputs: {} });
  const theirs = desiredPreferences(undefined, { kmsKeyId: 'alias/other', inputs: {} });

  test('deletes a document it created', () => {
    expect(planDelete({ kind: 'created' }, { defaultVersion: '1', preferences: ours }, KEY)).toMatchObject({ action: 'delete-document' });
  });

  test('makes the previous default version the default again', () => {
    expect(planDelete({ kind: 'version', version: '3' }, { defaultVersion: '4', preferences: ours }, KEY))
      .toMatchObject({ action: 'restore-version', version: '3' });
  });

  test('keeps preferences someone changed since (they no longer use the key)', () => {
    expect(planDelete({ kind: 'version', version: '3' }, { defaultVersion: '5', preferences: theirs }, KEY)).toMatchObject({ action: 'keep' });
    expect(planDelete({ kind: 'created' }, { defaultVersion: '2', preferences: theirs }, KEY)).toMatchObject({ action: 'keep' });
    expect(planDelete({ kind: 'created' }, { defaultVersion: '2', preferences: undefined }, KEY)).toMatchObject({ action: 'keep' });
  });

  test('keeps the document when the previous version is still the default (nothing was changed)', () => {
    expect(planDelete({ kind: 'version', version: '3' }, { defaultVersion: '3', preferences: ours }, KEY)).toMatchObject({ action: 'keep' });
  });

  test('keeps the document without a journal (this resource never changed it)', () => {
    expect(planDelete(undefined, { defaultVersion: '3', preferences: ours }, KEY)).toMatchObject({ action: 'keep' });
  });
});
