/**
 * Whether an instance's role lets EC2Rescue store the online method's password. AWS's guide
 * ("How do I reset the administrator password on an EC2 Windows instance?"): the online reset writes
 * the new password as the SecureString parameter /EC2Rescue/Passwords/<instance-id>, so the instance
 * role needs ssm:PutParameter on it, and kms:Encrypt on a customer managed key when one is used.
 * The preflight asks IAM's policy simulator (iam:SimulatePrincipalPolicy) with the requests built
 * here, and reads the answer with `permissionFromSimulation`; `auto` falls back to offline when the
 * role may not, `online` is refused. Plain functions: the preflight handler makes the calls.
 */

/** The answer the preflight records: allowed, or why not (a sentence naming what to attach). */
export interface OnlinePermission {
  readonly allowed: boolean;
  readonly reason?: string;
}

/** The parts of an ARN the simulation needs (taken from the execution's ARN: same partition, Region and account). */
export interface ArnContext {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** Partition, Region and account of an ARN (`arn:<partition>:<service>:<region>:<account>:...`). */
export function arnContextOf(arn: string): ArnContext {
  const [, partition, , region, account] = arn.split(':');
  return { partition, region, account };
}

/** The role name of an instance profile ARN (`arn:...:instance-profile/<path/>name`): its last segment. */
export function instanceProfileNameOf(profileArn: string): string {
  return profileArn.split('/').pop() ?? profileArn;
}

/** What to simulate: PutParameter on the instance's password parameter, and Encrypt on a customer managed key. */
export function passwordStoreChecks(instanceId: string, where: ArnContext, customerKeyArn?: string): Array<{ action: string; resource: string }> {
  return [
    { action: 'ssm:PutParameter', resource: `arn:${where.partition}:ssm:${where.region}:${where.account}:parameter/EC2Rescue/Passwords/${instanceId}` },
    ...(customerKeyArn ? [{ action: 'kms:Encrypt', resource: customerKeyArn }] : []),
  ];
}

/** Reads SimulatePrincipalPolicy's EvaluationResults: allowed only when every check is `allowed`. */
export function permissionFromSimulation(
  roleArn: string, results: ReadonlyArray<{ EvalActionName?: string; EvalResourceName?: string; EvalDecision?: string }>,
): OnlinePermission {
  const denied = results.filter(r => r.EvalDecision !== 'allowed');
  if (results.length > 0 && denied.length === 0) return { allowed: true };
  const what = denied.map(r => `${r.EvalActionName} on ${r.EvalResourceName} (${r.EvalDecision ?? 'no decision'})`).join(', ') || 'nothing was simulated';
  return {
    allowed: false,
    reason: `its role ${roleArn} may not store the password EC2Rescue sets: ${what}; attach the RescuePasswordPolicy managed policy to the role`,
  };
}

/** No instance profile: EC2Rescue has no role to store the password with. */
export function noInstanceProfile(): OnlinePermission {
  return {
    allowed: false,
    reason: 'it has no instance profile, so EC2Rescue cannot store the password in Parameter Store; attach an instance profile whose role has the RescuePasswordPolicy managed policy',
  };
}
