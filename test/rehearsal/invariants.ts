/**
 * DESIGN.md §3's invariants, checked against the simulated account and the executions' records
 * after a rehearsal. Each check returns sentences, one per violation; an empty list is a pass.
 */
import { sameDevice, SimulatedAccount } from './account';
import type { ExecutionRecord, Rehearsal } from './runner';

/** What the target looked like before the reset (what every outcome must return it to). */
export interface TargetBaseline {
  readonly instanceId: string;
  readonly state: string;
  readonly rootDeviceName: string;
  readonly rootVolumeId?: string;
  readonly deleteOnTermination?: boolean;
  readonly generation?: number;
  readonly autoScalingLifecycle?: string;
  readonly autoScalingGroup?: string;
  readonly desiredCapacity?: number;
  readonly minSize?: number;
}

export function baselineOf(account: SimulatedAccount, instanceId: string): TargetBaseline {
  const instance = account.instances.get(instanceId);
  if (!instance) return { instanceId, state: 'absent', rootDeviceName: '' };
  const root = account.volumeAt(instanceId, instance.rootDeviceName);
  const member = account.autoScaling.get(instanceId);
  return {
    instanceId,
    state: instance.state,
    rootDeviceName: instance.rootDeviceName,
    ...(root ? { rootVolumeId: root.volumeId, deleteOnTermination: root.attachment!.deleteOnTermination, generation: root.generation } : {}),
    ...(member ? {
      autoScalingLifecycle: member.lifecycleState,
      autoScalingGroup: member.groupName,
      desiredCapacity: account.autoScalingGroups.get(member.groupName)?.desiredCapacity,
      minSize: account.autoScalingGroups.get(member.groupName)?.minSize,
    } : {}),
  };
}

export interface InvariantOptions {
  /** An execution that may still hold the lock (a concurrent reset that is not over). */
  readonly lockOwner?: string;
  /** When the reset succeeded offline, the volume carries the fix: its content generation moved on. */
  readonly expectFixed?: boolean;
  /** The scenario provokes IAM denials on purpose (and asserts them itself). */
  readonly expectDenials?: boolean;
}

/** What the checks read of a rehearsal (a test may build it by hand: invariants.test.ts). */
export type RehearsalRecord = Pick<Rehearsal, 'account' | 'executions' | 'logs' | 'settle'> & Partial<Pick<Rehearsal, 'iam'>>;

/** I1–I5, I7, I8 (and Standby), for one target, after every execution of the rehearsal has ended. */
export function invariantViolations(r: RehearsalRecord, base: TargetBaseline, o: InvariantOptions = {}): string[] {
  r.settle();
  const account = r.account;
  const violations: string[] = [];
  const id = base.instanceId;
  const instance = account.instances.get(id);

  if (instance && base.rootVolumeId) {
    // I1: the root volume exists, is attached to the target at its original device, with DeleteOnTermination as it was.
    const volume = account.volumes.get(base.rootVolumeId)!;
    if (volume.deleted) violations.push(`I1: the root volume ${volume.volumeId} was deleted`);
    const attachment = volume.attachment;
    if (!attachment || attachment.instanceId !== id || !sameDevice(attachment.device, base.rootDeviceName) || attachment.state !== 'attached') {
      violations.push(`I1: the root volume is ${attachment ? `${attachment.state} to ${attachment.instanceId} at ${attachment.device}` : 'detached'}, ` +
        `not attached to ${id} at ${base.rootDeviceName}`);
    } else if (attachment.deleteOnTermination !== base.deleteOnTermination) {
      violations.push(`I1: DeleteOnTermination is ${attachment.deleteOnTermination}, was ${base.deleteOnTermination}`);
    }
    if (instance.state !== base.state) violations.push(`I1: the target is ${instance.state}, was ${base.state}`);
    if (o.expectFixed && volume.generation === base.generation) violations.push('the reset succeeded but the root volume was never fixed');

    const firstDetach = volume.history.find(h => h.what === `detach:${id}`);
    // I1: DeleteOnTermination was false before the root left the target. The prepare step sets it before it
    // stops the target; while the target is stopped with its root attached (the backup, the helper's boot), a
    // termination by anyone (an Auto Scaling replacement, an operator) would delete a root whose attribute is
    // true ("The volume is deleted when the instance is terminated", EC2 User Guide, "Preserve data when an
    // instance is terminated"). The detach is the last moment the volume shows the attribute, so it is recorded there.
    if (firstDetach && firstDetach.deleteOnTermination !== false) {
      violations.push(`I1: the root volume left the target with DeleteOnTermination ${firstDetach.deleteOnTermination}; it must be false from before the stop`);
    }

    // The disk was offline in the helper's Windows whenever the root left a helper: the offline script sets it
    // offline again in its finally block, whatever happened (EC2Rescue's stderr, a failure mid-way).
    for (const left of volume.history.filter(h => h.what.startsWith('detach:') && h.what !== `detach:${id}` && h.diskOnline)) {
      violations.push(`Disk: the root volume left ${left.what.slice('detach:'.length)} at ${new Date(left.at).toISOString()} while its disk was still online in Windows`);
    }

    // I3: a backup image whose snapshot of the root started before the root left the target, and so holds the
    // volume as it was (a snapshot is point-in-time at its request: ec2-images.ts; the image may still be pending).
    if (firstDetach) {
      const backups = [...account.images.values()].filter(i => i.tags['cdk-ec2-reset-access:target'] === id && i.tags['cdk-ec2-reset-access:role'] === 'backup');
      const holdsOriginal = (snapshotId: string) => {
        const snapshot = account.snapshots.get(snapshotId);
        return snapshot?.volumeId === volume.volumeId && snapshot.generation === base.generation && snapshot.startTime <= firstDetach.at;
      };
      const good = backups.find(i => i.snapshotIds.some(holdsOriginal));
      if (!good) violations.push(`I3: the root volume left the target at ${new Date(firstDetach.at).toISOString()} without a backup image whose snapshot of it started before`);
    }
    violations.push(...detachViolations(account, base));
  }

  // I2: every helper is gone, and nothing else the workflow created is left running.
  for (const helper of [...account.instances.values()].filter(i => i.isHelper)) {
    if (!['shutting-down', 'terminated'].includes(helper.state)) violations.push(`I2: the helper ${helper.instanceId} is ${helper.state}`);
  }

  // I4: the lock is released (unless another execution, still running, holds it).
  for (const [table, items] of account.tables) {
    const item = items.get(JSON.stringify({ instanceId: { S: id } }));
    if (item && item.executionArn?.S?.split(':').pop() !== o.lockOwner) {
      violations.push(`I4: the lock item of ${id} in ${table} is still held by ${item.executionArn?.S}`);
    }
  }

  // Auto Scaling: back as it was, capacity and minimum size included.
  if (base.autoScalingGroup) {
    const member = account.autoScaling.get(id);
    const group = account.autoScalingGroups.get(base.autoScalingGroup);
    if (member?.lifecycleState !== base.autoScalingLifecycle) {
      violations.push(`Standby: the instance is ${member?.lifecycleState} in ${base.autoScalingGroup}, was ${base.autoScalingLifecycle}`);
    }
    if (group?.desiredCapacity !== base.desiredCapacity) {
      violations.push(`Standby: the desired capacity of ${base.autoScalingGroup} is ${group?.desiredCapacity}, was ${base.desiredCapacity}`);
    }
    if (group?.minSize !== base.minSize) {
      violations.push(`Standby: the MinSize of ${base.autoScalingGroup} is ${group?.minSize}, was ${base.minSize}`);
    }
  }

  violations.push(...reconcilerViolations(r, base));
  violations.push(...secretViolations(r));
  if (!o.expectDenials) violations.push(...denialViolations(r));
  return violations;
}

/**
 * I7: the target's root volume never left another instance (a helper) that was not stopped at that
 * moment (the volume's history records the instance's state at each detach), and the account never
 * marked it possibly corrupted (a detach or an unflushed stop while a command could write to it).
 */
export function detachViolations(account: SimulatedAccount, base: TargetBaseline): string[] {
  const volume = base.rootVolumeId ? account.volumes.get(base.rootVolumeId) : undefined;
  if (!volume) return [];
  const violations: string[] = [];
  for (const entry of volume.history) {
    const from = entry.what.startsWith('detach:') ? entry.what.slice('detach:'.length) : undefined;
    if (from && from !== base.instanceId && entry.instanceState !== 'stopped') {
      violations.push(`I7: the root volume was detached from ${from} while it was ${entry.instanceState} (${new Date(entry.at).toISOString()})`);
    }
  }
  if (volume.possiblyCorrupted) violations.push(`I7: the root volume is possibly corrupted: ${volume.possiblyCorrupted}`);
  return violations;
}

/**
 * I8: eventual restoration. The target's journal was never deleted by DynamoDB's TTL (only a restore
 * may release it: TTL would hide an instance that is not back), every run of the reconciler
 * completed, and the reconciler did not give up on the target.
 */
export function reconcilerViolations(r: RehearsalRecord & Partial<Pick<Rehearsal, 'reconcilerRuns'>>, base: TargetBaseline): string[] {
  const violations: string[] = [];
  const key = JSON.stringify({ instanceId: { S: base.instanceId } });
  for (const m of r.account.moments.filter(x => x.what.startsWith('ttl-deleted:') && x.what.endsWith(`:${key}`))) {
    violations.push(`I8: DynamoDB's TTL deleted the journal of ${base.instanceId} at ${new Date(m.at).toISOString()}`);
  }
  for (const run of (r.reconcilerRuns ?? []).filter(x => x.error)) {
    violations.push(`I8: the reconciler failed at ${new Date(run.at).toISOString()}: ${run.error}`);
  }
  for (const [table, items] of r.account.tables) {
    if (items.get(key)?.abandonedAt) violations.push(`I8: the reconciler gave up on ${base.instanceId} (its journal stays in ${table} for an operator)`);
  }
  return violations;
}

/** Every call IAM denied a function (the roles must allow everything the workflow does; injected faults never reach IAM). */
export function denialViolations(r: RehearsalRecord): string[] {
  return (r.iam?.denials() ?? []).map(d => {
    const denied = d.requests.filter(q => q.decision !== 'Allowed').map(q => `${q.request.action} on ${q.request.resource} (${q.decision})`);
    return `IAM: ${d.role} was denied ${d.call} in ${d.execution ?? 'a direct call'}/${d.state ?? '?'}: ${denied.join(', ')}`;
  });
}

/** I5: no password data and no password parameter value in any state input or output, error, or log line. */
export function secretViolations(r: RehearsalRecord): string[] {
  const violations: string[] = [];
  const haystacks: Array<[string, string]> = [
    ...r.executions.map(e => [`execution ${e.name}`, JSON.stringify({ events: e.events, output: e.output, error: e.error, cause: e.cause })] as [string, string]),
    ['Lambda logs', r.logs.join('\n')],
  ];
  for (const [where, text] of haystacks) {
    for (const secret of r.account.secrets) {
      if (text.includes(secret)) violations.push(`I5: a password blob or parameter value appears in ${where}`);
    }
    if (/"PasswordData"/.test(text)) violations.push(`I5: a PasswordData field appears in ${where}`);
  }
  return violations;
}

/**
 * I9 (nothing billable outlives its need), once every reset has ended and the endpoints' grace
 * period (and a janitor run after it) has passed: no interface endpoint the workflow created is
 * still there (anything but `deleting` or `deleted`), no lease is recorded for the endpoints, and
 * no instance the workflow launched (it carries the workflow tag) is anything but shutting down or
 * terminated. Found by tags, not by what the simulated account knows of its instances.
 */
export function leftBehindViolations(r: Pick<RehearsalRecord, 'account' | 'settle'>): string[] {
  r.settle();
  const account = r.account;
  const violations: string[] = [];
  for (const e of account.vpcEndpoints.values()) {
    if (e.tags[TAG_ROLE] === 'endpoint' && !['deleting', 'deleted'].includes(e.state)) {
      violations.push(`I9: the interface endpoint ${e.vpcEndpointId} (${e.serviceName}) is ${e.state} after the resets ended and the grace period passed`);
    }
  }
  for (const [table, items] of account.tables) {
    for (const item of items.values()) {
      if (item.instanceId?.S?.startsWith('endpoints:') && item.leases?.SS?.length) {
        violations.push(`I9: ${table} still records endpoint leases of ${item.leases.SS.join(', ')}`);
      }
    }
  }
  for (const i of account.instances.values()) {
    if (i.tags[TAG_WORKFLOW] !== undefined && !['shutting-down', 'terminated'].includes(i.state)) {
      violations.push(`I2: the instance ${i.instanceId} the workflow launched is ${i.state}`);
    }
  }
  return violations;
}

const TAG_ROLE = 'cdk-ec2-reset-access:role';
const TAG_WORKFLOW = 'cdk-ec2-reset-access:workflow';

/** The calls that changed something in the account (a dry run or a blocked reset must have none). */
export function changesMade(r: Rehearsal): string[] {
  return r.account.mutations().map(c => `${c.service}:${c.operation}`);
}

/** Asserts that the invariants hold for the target, naming the rehearsal's executions when they do not. */
export function expectInvariantsHold(r: Rehearsal, base: TargetBaseline, o: InvariantOptions = {}): void {
  expect({ executions: describeExecutions(r), violations: invariantViolations(r, base, o) })
    .toEqual({ executions: describeExecutions(r), violations: [] });
}

/** Every execution of the rehearsal, in start order, with its status (for messages). */
export function describeExecutions(r: Rehearsal): string {
  return r.executions.map((e: ExecutionRecord) => `${e.name} ${e.status}${e.error ? ` ${e.error}` : ''}`).join('; ');
}
