import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 (wildcard permission) for exactly the
 * wildcard resources and actions listed, on `scope` and below.
 *
 * cdk-nag 3 matches acknowledgements by full finding id, e.g.
 * `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:...]`, where CloudFormation
 * references are flattened to `<LogicalId.Attribute>`. Resources are given here as
 * the tokens used in the policy and flattened the same way, so an acknowledgement
 * never covers a wildcard it was not written for.
 */
export function acknowledgeWildcards(
  scope: IConstruct,
  wildcards: { readonly resources?: string[]; readonly actions?: string[] },
  reason: string,
): void {
  const stack = Stack.of(scope);
  const ids = [
    ...(wildcards.resources ?? []).map(resource => `Resource::${flatten(stack.resolve(resource))}`),
    ...(wildcards.actions ?? []).map(action => `Action::${action}`),
  ];
  for (const id of ids) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason });
  }
}

/**
 * The same acknowledgement on the principal a grant added its statements to, when that principal is
 * a construct of the app (a role, a user); an imported principal is not checked by cdk-nag anyway.
 */
export function acknowledgeWildcardsOnGrantee(grantee: iam.IGrantable, resources: string[], reason: string): void {
  const principal = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) acknowledgeWildcards(principal, { resources }, reason);
}

/** The same flattening cdk-nag applies to a resolved CloudFormation value. */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  const value = node as Record<string, any>;
  if (value['Fn::Join']) {
    const [delimiter, items] = value['Fn::Join'];
    return (items as unknown[]).map(flatten).join(delimiter);
  }
  if (value['Fn::Sub']) return flatten(value['Fn::Sub']);
  if (value['Fn::GetAtt']) {
    const [resource, attribute] = value['Fn::GetAtt'];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (value['Fn::ImportValue']) return flatten(value['Fn::ImportValue']);
  if (value.Ref) return `<${flatten(value.Ref)}>`;
  return JSON.stringify(node);
}
