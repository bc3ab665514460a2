import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { comparedFiles, differences, normalized } from '../../build-tools/integ-snapshot';

describe('integ snapshot comparison', () => {
  let snapshot: string;
  let actual: string;
  const write = (dir: string, file: string, value: unknown) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), JSON.stringify(value));
  };
  const template = (hash: string, salt: string) => ({
    Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: { Code: { S3Key: `${hash}.zip` } } }, Call: { Properties: { salt } } },
  });

  beforeEach(() => {
    snapshot = fs.mkdtempSync(path.join(os.tmpdir(), 'snap-'));
    actual = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-'));
    for (const dir of [snapshot, actual]) {
      write(dir, 'integ.json', { version: '55.0.0' });
      write(dir, 'tree.json', { at: dir });
      write(dir, 'performance-counters.json', { ms: Math.random() });
    }
  });

  test('equal apart from asset hashes, salts and reports: no difference', () => {
    // GIVEN
    write(snapshot, 'Stack.template.json', template('a'.repeat(64), '1795857805332'));
    write(actual, 'Stack.template.json', template('b'.repeat(64), '1795857840759'));

    // THEN
    expect(differences(snapshot, actual)).toEqual([]);
    expect(comparedFiles(snapshot)).toEqual(['Stack.template.json', 'integ.json']);
  });

  test('a deleted snapshot file fails', () => {
    // GIVEN
    write(actual, 'Stack.template.json', template('a'.repeat(64), '1'));

    // THEN
    expect(differences(snapshot, actual)).toEqual(['Stack.template.json: synthesized, missing from the snapshot']);
  });

  test('a changed resource fails and shows where', () => {
    // GIVEN
    write(snapshot, 'Stack.template.json', { Resources: { Instance: { Properties: { InstanceType: 't3.medium' } } } });
    write(actual, 'Stack.template.json', { Resources: { Instance: { Properties: { InstanceType: 't3.large' } } } });

    // THEN
    const lines = differences(snapshot, actual);
    expect(lines[0]).toMatch(/^Stack\.template\.json: differs/);
    expect(lines).toContain('  -     "InstanceType": "t3.medium"');
    expect(lines).toContain('  +     "InstanceType": "t3.large"');
  });

  test('normalizes formatting', () => {
    expect(normalized('{"a":1}')).toEqual(normalized('{\n  "a": 1\n}'));
  });
});
