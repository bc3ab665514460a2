/**
 * Targets for the scenarios: Windows instances as they are found in real accounts.
 */
import { SimInstance, SimulatedAccount } from './account';

/** The tag the sample stack's workflow requires (ResetWorkflow.DEFAULT_TARGET_TAG_KEY = true). */
export const ALLOW_RESET = { 'cdk-ec2-reset-access:allow-reset': 'true' } as const;

export type TargetOptions = Parameters<SimulatedAccount['addInstance']>[0];

/** A Windows Server 2022 instance, tagged for reset, in us-east-1a, not SSM-managed, unless told otherwise. */
export function windowsTarget(account: SimulatedAccount, o: TargetOptions = {}): SimInstance {
  return account.addInstance({ ...o, tags: { ...ALLOW_RESET, Name: 'app-server', ...(o.tags ?? {}) } });
}

/** An SSM-managed, Online target (the online method can run). */
export function managedTarget(account: SimulatedAccount, o: TargetOptions = {}): SimInstance {
  return windowsTarget(account, { ssmAgent: true, ...o });
}
