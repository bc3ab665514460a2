import { parseJsonObject } from '../../../cli/core/json';

describe('parseJsonObject', () => {
  test('reads a JSON object, and nothing else, without throwing', () => {
    expect(parseJsonObject('{"instanceId":"i-0123456789abcdef0","dryRun":true}')).toEqual({ instanceId: 'i-0123456789abcdef0', dryRun: true });
    expect(parseJsonObject(undefined)).toBeUndefined();
    expect(parseJsonObject('')).toBeUndefined();
    expect(parseJsonObject('{"truncated":')).toBeUndefined();
    expect(parseJsonObject('["i-0123456789abcdef0"]')).toBeUndefined();
    expect(parseJsonObject('"a string"')).toBeUndefined();
    expect(parseJsonObject('null')).toBeUndefined();
  });
});
