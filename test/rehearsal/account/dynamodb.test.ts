import { SimulatedAccount } from './account';
import { evaluateCondition } from './dynamodb';
import { accountHelpers, errorOf, newSimulatedAccount } from './fixture';

/**
 * DynamoDB as the lock uses it: conditional puts and deletes, condition expressions.
 */
describe('simulated account: DynamoDB', () => {
  let account: SimulatedAccount;
  beforeEach(() => {
    account = newSimulatedAccount();
  });
  const { ddb } = accountHelpers(() => account);

  describe('DynamoDB', () => {
    const table = 'locks';
    const item = (owner: string, expiresAt: number) => ({ instanceId: { S: 'i-1' }, executionArn: { S: owner }, expiresAt: { N: String(expiresAt) } });
    const put = (owner: string, now: number) => ddb('PutItem', {
      TableName: table,
      Item: item(owner, now + 100),
      ConditionExpression: 'attribute_not_exists(instanceId) OR executionArn = :me OR expiresAt < :now',
      ExpressionAttributeValues: { ':me': { S: owner }, ':now': { N: String(now) } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    beforeEach(() => account.addTable(table));

    test('a conditional SET update changes only its owner\'s item, keeping the other attributes; a failed condition changes nothing', () => {
      put('a', 1000);
      const update = (owner: string) => ddb('UpdateItem', {
        TableName: table,
        Key: { instanceId: { S: 'i-1' } },
        UpdateExpression: 'SET #record = :record',
        ConditionExpression: 'executionArn = :me',
        ExpressionAttributeNames: { '#record': 'minSizeLowered' },
        ExpressionAttributeValues: { ':record': { S: `by ${owner}` }, ':me': { S: owner } },
      });
      expect(errorOf(() => update('b'))).toBe('ConditionalCheckFailedException');
      update('a');
      expect(ddb('GetItem', { TableName: table, Key: { instanceId: { S: 'i-1' } } }).Item).toEqual({ ...item('a', 1100), minSizeLowered: { S: 'by a' } });
    });

    test('a conditional put takes a free lock, lets its owner retake it, refuses another owner with the old item, takes an expired one', () => {
      put('a', 1000);
      put('a', 1001);
      let refused: any;
      try {
        put('b', 1002);
      } catch (err) {
        refused = err;
      }
      expect(refused).toMatchObject({ name: 'ConditionalCheckFailedException', Item: item('a', 1101) });
      put('b', 2000);
      expect(ddb('GetItem', { TableName: table, Key: { instanceId: { S: 'i-1' } } }).Item.executionArn).toEqual({ S: 'b' });
    });

    test('a conditional delete removes only its owner\'s item; unknown tables fail (ResourceNotFoundException)', () => {
      put('a', 1000);
      const del = (owner: string) => ddb('DeleteItem', {
        TableName: table, Key: { instanceId: { S: 'i-1' } }, ConditionExpression: 'executionArn = :me', ExpressionAttributeValues: { ':me': { S: owner } },
      });
      expect(errorOf(() => del('b'))).toBe('ConditionalCheckFailedException');
      del('a');
      expect(ddb('GetItem', { TableName: table, Key: { instanceId: { S: 'i-1' } } }).Item).toBeUndefined();
      expect(errorOf(() => del('a'))).toBe('ConditionalCheckFailedException');
      expect(errorOf(() => ddb('GetItem', { TableName: 'nope', Key: {} }))).toBe('ResourceNotFoundException');
    });

    test('condition expressions: OR of ANDs, comparisons on numbers and strings', () => {
      const it = { a: { S: 'x' }, n: { N: '5' } };
      expect(evaluateCondition('a = :x AND n < :six', it, { ':x': { S: 'x' }, ':six': { N: '6' } })).toBe(true);
      expect(evaluateCondition('attribute_exists(z) OR n > :six', it, { ':six': { N: '6' } })).toBe(false);
      expect(() => evaluateCondition('begins_with(a, :x)', it, {})).toThrow(/cannot evaluate/);
    });
  });
});
