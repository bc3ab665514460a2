/**
 * DynamoDB, as far as the lock table uses it: items by key, conditional puts, updates and deletes.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { Operations, SimulatedAccount } from './account';
import { awsError } from './errors';

function table(account: SimulatedAccount, name: string): Map<string, Record<string, any>> {
  const items = account.tables.get(name);
  if (!items) throw awsError('dynamodb', 'ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
  return items;
}

function keyOf(key: Record<string, any>): string {
  return JSON.stringify(key);
}

/**
 * The subset of DynamoDB condition expressions the lock uses: `attribute_not_exists(a)`,
 * `attribute_exists(a)`, `a = :v`, `a <> :v`, `a < :v`, `a > :v`, joined by OR / AND (AND binds tighter).
 */
export function evaluateCondition(expression: string, item: Record<string, any> | undefined, values: Record<string, any>): boolean {
  const scalar = (v: any): string | number | undefined => {
    if (v === undefined) return undefined;
    if (v.S !== undefined) return v.S;
    return v.N !== undefined ? Number(v.N) : JSON.stringify(v);
  };
  const term = (text: string): boolean => {
    const t = text.trim();
    let m = t.match(/^attribute_not_exists\((\w+)\)$/);
    if (m) return item?.[m[1]] === undefined;
    m = t.match(/^attribute_exists\((\w+)\)$/);
    if (m) return item?.[m[1]] !== undefined;
    m = t.match(/^(\w+)\s*(=|<>|<|>)\s*(:\w+)$/);
    if (!m) throw new Error(`The simulated DynamoDB cannot evaluate "${t}"`);
    if (!(m[3] in values)) throw awsError('dynamodb', 'ValidationException', `An expression attribute value used in expression is not defined: ${m[3]}`);
    const left = scalar(item?.[m[1]]);
    const right = scalar(values[m[3]]);
    if (left === undefined) return false;
    switch (m[2]) {
      case '=': return left === right;
      case '<>': return left !== right;
      case '<': return left < right!;
      default: return left > right!;
    }
  };
  return expression.split(/\s+OR\s+/).some(alternative => alternative.split(/\s+AND\s+/).every(term));
}

export const DYNAMODB_OPERATIONS: Operations = {
  GetItem(account, input) {
    const item = table(account, input.TableName).get(keyOf(input.Key));
    return item ? { Item: structuredClone(item) } : {};
  },

  PutItem(account, input) {
    const items = table(account, input.TableName);
    const key = keyOf({ instanceId: input.Item.instanceId });
    const existing = items.get(key);
    if (input.ConditionExpression && !evaluateCondition(input.ConditionExpression, existing, input.ExpressionAttributeValues ?? {})) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: { httpStatusCode: 400 },
        ...(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existing ? { Item: structuredClone(existing) } : {}),
      });
    }
    items.set(key, structuredClone(input.Item));
    return {};
  },

  /**
   * `SET a = :v, #n = :w` updates of an existing item (the journal's records), conditional like PutItem.
   * DynamoDB API reference, UpdateItem: the condition is evaluated against the item as it is; a failed
   * condition is ConditionalCheckFailedException and nothing changes; without an item, an update would
   * create one, but the condition the workflow uses (`executionArn = :me`) fails on an absent item.
   */
  UpdateItem(account, input) {
    const items = table(account, input.TableName);
    const key = keyOf(input.Key);
    const existing = items.get(key);
    const names: Record<string, string> = input.ExpressionAttributeNames ?? {};
    const values: Record<string, any> = input.ExpressionAttributeValues ?? {};
    const condition = input.ConditionExpression ? String(input.ConditionExpression).replace(/#\w+/g, n => names[n] ?? n) : undefined;
    if (condition && !evaluateCondition(condition, existing, values)) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
    }
    const set = String(input.UpdateExpression ?? '').match(/^\s*SET\s+(.+)$/i);
    if (!set) throw new Error(`The simulated DynamoDB only applies "SET a = :v" updates, not "${input.UpdateExpression}"`);
    const item = structuredClone(existing ?? input.Key);
    for (const assignment of set[1].split(',')) {
      const m = assignment.trim().match(/^(#?\w+)\s*=\s*(:\w+)$/);
      if (!m) throw new Error(`The simulated DynamoDB cannot apply "${assignment.trim()}"`);
      if (!(m[2] in values)) throw awsError('dynamodb', 'ValidationException', `An expression attribute value used in expression is not defined: ${m[2]}`);
      item[names[m[1]] ?? m[1]] = structuredClone(values[m[2]]);
    }
    items.set(key, item);
    return {};
  },

  DeleteItem(account, input) {
    const items = table(account, input.TableName);
    const key = keyOf(input.Key);
    const existing = items.get(key);
    if (input.ConditionExpression && !evaluateCondition(input.ConditionExpression, existing, input.ExpressionAttributeValues ?? {})) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
    }
    items.delete(key);
    return {};
  },
};
