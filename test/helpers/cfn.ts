/**
 * Evaluates a CloudFormation value the way CloudFormation would in a given Region:
 * `Ref` to pseudo parameters, `Fn::Join`, `Fn::Select`, `Fn::GetAZs`, `Fn::If` (with the template's
 * `Conditions`: `Fn::Equals`, `Fn::Or`, `Fn::And`, `Fn::Not`, `Condition`).
 *
 * For tests of environment-agnostic stacks, whose Region-dependent choices are made at
 * deploy time: evaluate the synthesized value for a concrete Region and compare.
 * A `Ref` to a resource evaluates to its logical id.
 */
export function evaluateCfn(
  value: unknown,
  context: {
    readonly region: string;
    readonly partition?: string;
    /** The template's `Conditions`, for `Fn::If`. */
    readonly conditions?: Record<string, unknown>;
    /** What `Fn::GetAZs` returns. */
    readonly availabilityZones?: string[];
  },
): any {
  const conditions = context.conditions ?? {};
  const evaluate = (node: unknown): any => {
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map(evaluate);
    const fn = node as Record<string, any>;
    if (fn.Ref !== undefined) {
      switch (fn.Ref) {
        case 'AWS::Region': return context.region;
        case 'AWS::Partition': return context.partition ?? 'aws';
        case 'AWS::URLSuffix': return 'amazonaws.com';
        default: return fn.Ref;
      }
    }
    if (fn['Fn::Join']) {
      const [delimiter, parts] = fn['Fn::Join'];
      return (evaluate(parts) as unknown[]).join(delimiter);
    }
    if (fn['Fn::Select']) {
      const [index, list] = fn['Fn::Select'];
      return evaluate(list)[Number(index)];
    }
    if (fn['Fn::GetAZs'] !== undefined) {
      if (!context.availabilityZones) throw new Error('Fn::GetAZs needs availabilityZones in the context');
      return context.availabilityZones;
    }
    if (fn['Fn::If']) {
      const [condition, whenTrue, whenFalse] = fn['Fn::If'];
      return conditionHolds(condition) ? evaluate(whenTrue) : evaluate(whenFalse);
    }
    return Object.fromEntries(Object.entries(fn).map(([key, v]) => [key, evaluate(v)]));
  };
  const holds = (expression: any): boolean => {
    if (expression.Condition) return conditionHolds(expression.Condition);
    if (expression['Fn::Equals']) {
      const [a, b] = expression['Fn::Equals'];
      return evaluate(a) === evaluate(b);
    }
    if (expression['Fn::Or']) return (expression['Fn::Or'] as any[]).some(holds);
    if (expression['Fn::And']) return (expression['Fn::And'] as any[]).every(holds);
    if (expression['Fn::Not']) return !holds(expression['Fn::Not'][0]);
    throw new Error(`Cannot evaluate condition ${JSON.stringify(expression)}`);
  };
  const conditionHolds = (name: string): boolean => {
    if (!(name in conditions)) throw new Error(`Unknown condition ${name}`);
    return holds(conditions[name]);
  };
  return evaluate(value);
}
