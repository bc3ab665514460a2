/**
 * DynamoDB, as far as the lock table (the journal, the endpoint leases) uses it: items by key, conditional puts,
 * updates and deletes, scans page by page, and TTL deleting expired items.
 *
 * Documents quoted (DynamoDB API Reference, https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/, and
 * Developer Guide, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/):
 * - [GI] GetItem (API_GetItem.html). [PI] PutItem (API_PutItem.html). [UI] UpdateItem (API_UpdateItem.html).
 *   [DI] DeleteItem (API_DeleteItem.html). [SC] Scan (API_Scan.html). [ERR] "Error handling with DynamoDB",
 *   error components (Programming.Errors.html).
 * - [CE] Developer Guide, "Condition expressions" and "Comparison operator and function reference"
 *   (Expressions.ConditionExpressions.html, Expressions.OperatorsAndFunctions.html).
 * - [NAMES] Developer Guide, "Expression attribute names" (Expressions.ExpressionAttributeNames.html).
 * - [UE] Developer Guide, "Update expressions" (Expressions.UpdateExpressions.html).
 * - [TTL] Developer Guide, "Time to Live (TTL)" (TTL.html).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { Operations, SimulatedAccount } from './account';
import { awsError } from './errors';

/** [ERR] ResourceNotFoundException: "The operation tried to access a nonexistent table or index." */
function table(account: SimulatedAccount, name: string): Map<string, Record<string, any>> {
  const items = account.tables.get(name);
  if (!items) throw awsError('dynamodb', 'ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
  return items;
}

function keyOf(key: Record<string, any>): string {
  return JSON.stringify(key);
}

/**
 * `#name` placeholders replaced by the names they stand for ([NAMES]: a placeholder starts with `#` and
 * stands for the name ExpressionAttributeNames gives it). A placeholder without a name is a
 * ValidationException, worded as DynamoDB words it.
 */
function withNames(expression: string, names: Record<string, string> | undefined): string {
  return expression.replace(/#\w+/g, placeholder => {
    const name = names?.[placeholder];
    if (name === undefined) throw awsError('dynamodb', 'ValidationException', `An expression attribute name used in the document path is not defined; attribute name: ${placeholder}`);
    return name;
  });
}

/**
 * [TTL]: "DynamoDB deletes expired items ... typically within a few days of their expiration time"
 * and items past it still appear in reads until then.
 * Assumption: the sim deletes them at the first moment after the expiry, the worst case for a
 * journal that must outlive its restore. Each deletion is recorded (`ttl-deleted:<table>:<key>`).
 */
export function expireItems(account: SimulatedAccount): void {
  const nowSeconds = account.now() / 1000;
  for (const [name, attribute] of account.tableTtl) {
    const items = account.tables.get(name);
    for (const [key, item] of items ?? []) {
      const expiresAt = Number(item[attribute]?.N);
      if (Number.isFinite(expiresAt) && expiresAt < nowSeconds) {
        items!.delete(key);
        account.moment(`ttl-deleted:${name}:${key}`);
      }
    }
  }
}

/**
 * The subset of DynamoDB condition expressions the lock uses: `attribute_not_exists(a)`,
 * `attribute_exists(a)`, `a = :v`, `a <> :v`, `a < :v`, `a > :v`, joined by OR / AND. [CE]: the
 * functions are true when the item does (not) contain the attribute; the comparators compare numbers by
 * value and strings by their characters; precedence lists AND above OR, so AND binds tighter.
 * assumption: a comparison with an attribute the item lacks is false (the condition cannot hold on it).
 * An expression value without a definition is a ValidationException, worded as DynamoDB words it.
 */
export function evaluateCondition(
  expression: string, item: Record<string, any> | undefined, values: Record<string, any>, names?: Record<string, string>,
): boolean {
  expression = withNames(expression, names);
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

/** Items a Scan page holds at most in the sim (see Scan; assumption). */
export const SCAN_PAGE_ITEMS = 2;

/**
 * The subset of update expressions the lock table's writers (the journal, the endpoint leases) use:
 * `SET a = :v, b = if_not_exists(b, :v)`, `ADD s :set` (string sets, numbers), `DELETE s :set`
 * (elements of a string set), `REMOVE a, b`, in any order. [UE]: SET replaces or adds the attribute;
 * if_not_exists(path, value) evaluates to the attribute when the item has it, else to the value; ADD
 * adds to a number (an absent attribute counting as 0) or adds elements to a set (creating it); DELETE
 * takes elements out of a set ("If the set becomes empty, the attribute is removed"); REMOVE deletes
 * attributes.
 */
export function applyUpdate(expression: string, item: Record<string, any>, values: Record<string, any>): Record<string, any> {
  const value = (placeholder: string) => {
    if (!(placeholder in values)) throw awsError('dynamodb', 'ValidationException', `An expression attribute value used in expression is not defined: ${placeholder}`);
    return structuredClone(values[placeholder]);
  };
  const clauses = expression.trim().split(/\s+(?=(?:SET|REMOVE|ADD|DELETE)\s)/);
  for (const clause of clauses) {
    const [, verb, body] = clause.match(/^(SET|REMOVE|ADD|DELETE)\s+([\s\S]+)$/) ?? [];
    if (!verb) throw new Error(`The simulated DynamoDB cannot apply "${clause}"`);
    for (const action of body.split(/,(?![^(]*\))/).map(a => a.trim())) {
      if (verb === 'REMOVE') {
        delete item[action];
        continue;
      }
      if (verb === 'ADD') {
        const [path, placeholder] = action.split(/\s+/);
        const add = value(placeholder);
        if (add.SS) item[path] = { SS: [...new Set([...(item[path]?.SS ?? []), ...add.SS])] };
        else if (add.N !== undefined) item[path] = { N: String(Number(item[path]?.N ?? 0) + Number(add.N)) };
        else throw new Error(`The simulated DynamoDB adds sets and numbers only, not ${JSON.stringify(add)}`);
        continue;
      }
      if (verb === 'DELETE') {
        const [path, placeholder] = action.split(/\s+/);
        const remove = value(placeholder);
        if (!remove.SS) throw new Error(`The simulated DynamoDB deletes from string sets only, not ${JSON.stringify(remove)}`);
        const left = (item[path]?.SS ?? []).filter((v: string) => !remove.SS.includes(v));
        if (left.length > 0) item[path] = { SS: left };
        else delete item[path];
        continue;
      }
      const set = action.match(/^(\w+)\s*=\s*(?:if_not_exists\((\w+),\s*(:\w+)\)|(:\w+))$/);
      if (!set) throw new Error(`The simulated DynamoDB cannot apply "SET ${action}"`);
      const [, path, ifNotExistsPath, fallback, plain] = set;
      item[path] = plain ? value(plain) : (item[ifNotExistsPath] !== undefined ? item[ifNotExistsPath] : value(fallback));
    }
  }
  return item;
}

/**
 * Throws when a request has a ConditionExpression that does not hold for the item as it is: [PI], [UI], [DI]
 * ConditionalCheckFailedException ("The conditional request failed"), and nothing changes. With
 * ReturnValuesOnConditionCheckFailure ALL_OLD the error carries the item as it was: [PI] the parameter
 * "returns the item attributes for a PutItem operation that failed a condition check" ([UI] and [DI] say the
 * same of UpdateItem and DeleteItem); the exception's `Item` is the "Item which caused the
 * ConditionalCheckFailedException".
 */
function checkCondition(input: any, item: Record<string, any> | undefined): void {
  if (!input.ConditionExpression) return;
  if (evaluateCondition(input.ConditionExpression, item, input.ExpressionAttributeValues ?? {}, input.ExpressionAttributeNames)) return;
  throw new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    ...(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && item ? { Item: structuredClone(item) } : {}),
  });
}

export const DYNAMODB_OPERATIONS: Operations = {
  /**
   * [GI] "If there is no matching item, GetItem does not return any data and there will be no Item
   * element in the response." ProjectionExpression: the attributes to retrieve ("If no attribute names
   * are specified, then all attributes are returned. If any of the requested attributes are not found,
   * they do not appear in the result"); names as in [NAMES]. Top-level attributes only (all the
   * workflow projects).
   */
  GetItem(account, input) {
    const item = table(account, input.TableName).get(keyOf(input.Key));
    if (!item) return {};
    if (typeof input.ProjectionExpression !== 'string') return { Item: structuredClone(item) };
    const names = input.ProjectionExpression.split(',').map((n: string) => n.trim())
      .map((n: string) => (n.startsWith('#') ? input.ExpressionAttributeNames?.[n] ?? n : n));
    return { Item: structuredClone(Object.fromEntries(Object.entries(item).filter(([name]) => names.includes(name)))) };
  },

  /**
   * [PI] "Creates a new item, or replaces an old item with a new item" of the same primary key.
   * assumption: every table of the sim has the lock table's key, the partition key `instanceId`.
   */
  PutItem(account, input) {
    const items = table(account, input.TableName);
    const key = keyOf({ instanceId: input.Item.instanceId });
    checkCondition(input, items.get(key));
    items.set(key, structuredClone(input.Item));
    return {};
  },

  /**
   * "Edits an existing item's attributes, or adds a new item to the table if it does not already
   * exist" ([UI]); the condition is checked against the item as it was, and a failed one changes nothing
   * (checkCondition). [UI] ReturnValues ALL_NEW: "Returns all of the attributes of the item, as they appear
   * after the UpdateItem operation".
   */
  UpdateItem(account, input) {
    const items = table(account, input.TableName);
    const key = keyOf(input.Key);
    const existing = items.get(key);
    const values = input.ExpressionAttributeValues ?? {};
    checkCondition(input, existing);
    const updated = applyUpdate(withNames(input.UpdateExpression, input.ExpressionAttributeNames), structuredClone(existing ?? input.Key), values);
    items.set(key, updated);
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(updated) } : {};
  },

  /**
   * "A single Scan operation reads up to the maximum number of items set (if using the Limit
   * parameter) or a maximum of 1 MB of data"; "If LastEvaluatedKey is present in the response,
   * you need to paginate" ([SC]). Assumption: a page holds at most SCAN_PAGE_ITEMS items (journal items
   * are a few KB, so 1 MB holds hundreds; a small page makes every reader page), in key order (DynamoDB's
   * order is its own; no reader here depends on it).
   */
  Scan(account, input) {
    const entries = [...table(account, input.TableName).entries()].sort(([a], [b]) => a.localeCompare(b));
    const start = input.ExclusiveStartKey ? entries.findIndex(([key]) => key === keyOf(input.ExclusiveStartKey)) + 1 : 0;
    const size = Math.min(input.Limit ?? SCAN_PAGE_ITEMS, SCAN_PAGE_ITEMS);
    const page = entries.slice(start, start + size);
    const more = start + size < entries.length;
    return {
      Items: page.map(([, item]) => structuredClone(item)),
      Count: page.length,
      ...(more ? { LastEvaluatedKey: JSON.parse(page[page.length - 1][0]) } : {}),
    };
  },

  /**
   * [DI] "Unless you specify conditions, the DeleteItem is an idempotent operation; running it multiple times
   * on the same item or attribute does not result in an error response"; with a condition, checkCondition.
   */
  DeleteItem(account, input) {
    const items = table(account, input.TableName);
    const key = keyOf(input.Key);
    checkCondition(input, items.get(key));
    items.delete(key);
    return {};
  },
};
