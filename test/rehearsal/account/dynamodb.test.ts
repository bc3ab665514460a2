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

    test('GetItem with a ProjectionExpression returns only the named attributes that exist', () => {
      put('a', 1000);
      const get = (projection: string, names?: Record<string, string>) => ddb('GetItem', {
        TableName: table, Key: { instanceId: { S: 'i-1' } }, ProjectionExpression: projection, ...(names ? { ExpressionAttributeNames: names } : {}),
      }).Item;
      expect(get('instanceId,abandonedAt')).toEqual({ instanceId: { S: 'i-1' } });
      expect(get('#owner, expiresAt', { '#owner': 'executionArn' })).toEqual({ executionArn: { S: 'a' }, expiresAt: item('a', 1100).expiresAt });
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

    test('UpdateItem and DeleteItem with ReturnValuesOnConditionCheckFailure ALL_OLD carry the item their condition failed on', () => {
      put('a', 1000);
      const refusal = (fn: () => unknown) => {
        try {
          fn();
        } catch (err) {
          return err;
        }
        return undefined;
      };
      const asB = { ConditionExpression: 'executionArn = :me', ExpressionAttributeValues: { ':me': { S: 'b' }, ':x': { S: 'x' } }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' };
      const key = { instanceId: { S: 'i-1' } };
      expect(refusal(() => ddb('UpdateItem', { TableName: table, Key: key, UpdateExpression: 'SET note = :x', ...asB })))
        .toMatchObject({ name: 'ConditionalCheckFailedException', Item: item('a', 1100) });
      expect(refusal(() => ddb('DeleteItem', { TableName: table, Key: key, ...asB })))
        .toMatchObject({ name: 'ConditionalCheckFailedException', Item: item('a', 1100) });
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

    test('UpdateItem: SET (if_not_exists), ADD to a string set or a number, REMOVE, #names; conditioned; never creates an item its condition rules out', () => {
      const key = { instanceId: { S: 'i-1' } };
      const update = (expression: string, values: any = {}, condition?: string) => ddb('UpdateItem', {
        TableName: table,
        Key: key,
        UpdateExpression: expression,
        ExpressionAttributeValues: { ':me': { S: 'a' }, ...values },
        ExpressionAttributeNames: { '#t': 'stoppedAt' },
        ...(condition ? { ConditionExpression: condition } : {}),
        ReturnValues: 'ALL_NEW',
      }).Attributes;
      expect(errorOf(() => update('SET #t = :t', { ':t': { N: '1' } }, 'executionArn = :me'))).toBe('ConditionalCheckFailedException');
      expect(ddb('GetItem', { TableName: table, Key: key }).Item).toBeUndefined();
      put('a', 1000);
      update('SET #t = if_not_exists(#t, :t)', { ':t': { N: '1' } }, 'executionArn = :me');
      update('SET #t = if_not_exists(#t, :t)', { ':t': { N: '2' } }, 'executionArn = :me');
      update('ADD arns :s', { ':s': { SS: ['x'] } });
      update('ADD arns :s, n :one', { ':s': { SS: ['x', 'y'] }, ':one': { N: '1' } });
      const updated = update('SET expiresAt = :e REMOVE n', { ':e': { N: '5' } }, 'executionArn = :me AND attribute_exists(expiresAt)');
      expect(updated).toEqual({ instanceId: { S: 'i-1' }, executionArn: { S: 'a' }, expiresAt: { N: '5' }, stoppedAt: { N: '1' }, arns: { SS: ['x', 'y'] } });
      expect(errorOf(() => update('SET #x = :t', { ':t': { N: '1' } }))).toBe('ValidationException');
    });

    test('Scan returns pages with a LastEvaluatedKey until the last one', () => {
      for (const id of ['i-1', 'i-2', 'i-3']) ddb('PutItem', { TableName: table, Item: { instanceId: { S: id } } });
      const seen: string[] = [];
      let start: any;
      let pages = 0;
      do {
        const page = ddb('Scan', { TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) });
        seen.push(...page.Items.map((i: any) => i.instanceId.S));
        start = page.LastEvaluatedKey;
        pages++;
      } while (start);
      expect(seen).toEqual(['i-1', 'i-2', 'i-3']);
      expect(pages).toBe(2);
    });

    test('TTL deletes an item once its TTL attribute is in the past, and records it; items without the attribute stay', () => {
      account.addTable('ttl', { ttlAttribute: 'expiresAt' });
      const now = Math.floor(account.now() / 1000);
      ddb('PutItem', { TableName: 'ttl', Item: { instanceId: { S: 'i-1' }, expiresAt: { N: String(now + 10) } } });
      ddb('PutItem', { TableName: 'ttl', Item: { instanceId: { S: 'i-2' } } });
      account.advance(10);
      expect(ddb('GetItem', { TableName: 'ttl', Key: { instanceId: { S: 'i-1' } } }).Item).toBeDefined();
      account.advance(1);
      expect(ddb('GetItem', { TableName: 'ttl', Key: { instanceId: { S: 'i-1' } } }).Item).toBeUndefined();
      expect(ddb('GetItem', { TableName: 'ttl', Key: { instanceId: { S: 'i-2' } } }).Item).toBeDefined();
      expect(account.moments.map(m => m.what)).toContain(`ttl-deleted:ttl:${JSON.stringify({ instanceId: { S: 'i-1' } })}`);
    });

    test('condition expressions: OR of ANDs, comparisons on numbers and strings', () => {
      const it = { a: { S: 'x' }, n: { N: '5' } };
      expect(evaluateCondition('a = :x AND n < :six', it, { ':x': { S: 'x' }, ':six': { N: '6' } })).toBe(true);
      expect(evaluateCondition('attribute_exists(z) OR n > :six', it, { ':six': { N: '6' } })).toBe(false);
      expect(() => evaluateCondition('begins_with(a, :x)', it, {})).toThrow(/cannot evaluate/);
    });
  });
});
