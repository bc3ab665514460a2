import type { AttributeValue, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { ERRORS, ResetPlan } from './contracts';
import { WorkflowError } from './errors';
import { OWNER_CONDITION, lockKey } from './journal';

/**
 * An Auto Scaling group at its minimum size, lowered for the reset and raised back (issue 11, item 2).
 *
 * EnterStandby with `ShouldDecrementDesiredCapacity` is refused when the desired capacity would drop
 * below the group's MinSize (EnterStandby's API reference), which is every single-instance group. With
 * the caller's `auto-scaling-min-size` acknowledgement the preflight plans `minSizeLowering {from, to}`;
 * prepare-target journals it in the lock item, then lowers MinSize to `to` before EnterStandby; the
 * restore, once the instance is out of Standby (ExitStandby has given the capacity back), raises it to
 * `from` again — only while it is still `to` (someone may have changed it meanwhile) and while the
 * desired capacity is at least `from` (a MinSize above the desired capacity makes Auto Scaling launch
 * instances: UpdateAutoScalingGroup's API reference).
 */

/** The lock item's attribute that records the lowering (a JSON string of {@link MinSizeRecord}). */
export const MIN_SIZE_RECORD_ATTRIBUTE = 'minSizeLowered';

/** What the journal records before MinSize is lowered. */
export interface MinSizeRecord {
  readonly groupName: string;
  readonly from: number;
  readonly to: number;
}

/** The group's size as DescribeAutoScalingGroups reports it. */
export interface GroupSize {
  readonly minSize: number;
  readonly desiredCapacity: number;
}

/**
 * Whether prepare-target must lower MinSize before EnterStandby: the plan says so and EnterStandby
 * would still be refused. A MinSize that is neither what the preflight saw nor low enough means someone
 * changed the group since: stop with the preflight's error rather than guess.
 */
export function mustLowerMinSize(group: GroupSize | undefined, plan: ResetPlan): boolean {
  const lowering = plan.minSizeLowering;
  if (!lowering || !group || group.desiredCapacity - 1 >= group.minSize) return false;
  if (group.minSize !== lowering.from) {
    throw new WorkflowError(ERRORS.autoScalingGroupAtMinimum, `The MinSize of the Auto Scaling group ${plan.autoScalingGroupName} is ${group.minSize} (desired capacity ${group.desiredCapacity}), not the ${lowering.from} the preflight saw; the workflow leaves it alone. Check who changed the group, then start a new reset.`);
  }
  return true;
}

/** The journal record (journal.ts), written (conditionally on this execution's lock) before MinSize is lowered. */
export function minSizeRecordUpdate(tableName: string, plan: ResetPlan): UpdateItemCommandInput {
  const record: MinSizeRecord = { groupName: plan.autoScalingGroupName ?? '', from: plan.minSizeLowering!.from, to: plan.minSizeLowering!.to };
  return {
    TableName: tableName,
    Key: lockKey(plan.instanceId),
    UpdateExpression: 'SET #record = :record',
    ConditionExpression: OWNER_CONDITION,
    ExpressionAttributeNames: { '#record': MIN_SIZE_RECORD_ATTRIBUTE },
    ExpressionAttributeValues: { ':record': { S: JSON.stringify(record) }, ':owner': { S: plan.executionArn } },
  };
}

/** The record in a lock item, if this execution wrote one. */
export function minSizeRecordOf(item: Record<string, AttributeValue> | undefined, plan: ResetPlan): MinSizeRecord | undefined {
  if (item?.executionArn?.S !== plan.executionArn) return undefined;
  const text = item?.[MIN_SIZE_RECORD_ATTRIBUTE]?.S;
  if (!text) return undefined;
  try {
    const record = JSON.parse(text) as MinSizeRecord;
    return typeof record.from === 'number' && typeof record.to === 'number' && typeof record.groupName === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

/** What the restore observes for this step. */
export interface MinSizeObservation {
  /** The journal's record: present only when this execution lowered (or was about to lower) MinSize. */
  readonly minSizeRecord?: MinSizeRecord;
  /** The group's size now. */
  readonly autoScalingGroup?: GroupSize;
  /** The instance's lifecycle state in the group. */
  readonly autoScalingLifecycleState?: string;
}

const IN_STANDBY = ['Standby', 'EnteringStandby'];

/** The restore's MinSize step: raise it back when that is safe and still ours to do; else nothing. */
export function nextMinSizeRestoreAction(observed: MinSizeObservation, plan: ResetPlan): { kind: 'restore-min-size'; groupName: string; value: number } | undefined {
  const record = observed.minSizeRecord;
  const group = observed.autoScalingGroup;
  if (!plan.minSizeLowering || !record || !group) return undefined;
  if (observed.autoScalingLifecycleState && IN_STANDBY.includes(observed.autoScalingLifecycleState)) return undefined;
  if (group.minSize !== record.to || group.desiredCapacity < record.from) return undefined;
  return { kind: 'restore-min-size', groupName: record.groupName, value: record.from };
}

/** Why MinSize is left as it is, for the restore's status; undefined when it is back, or was never lowered. */
export function minSizeRestoreNote(observed: MinSizeObservation): string | undefined {
  const record = observed.minSizeRecord;
  const group = observed.autoScalingGroup;
  if (!record || !group || group.minSize === record.from) return undefined;
  if (group.minSize !== record.to) {
    return `the MinSize of ${record.groupName} is ${group.minSize}, not the ${record.to} the workflow set, so it was left as it is (it was ${record.from} before the reset)`;
  }
  return `the MinSize of ${record.groupName} was left at ${record.to}: its desired capacity is ${group.desiredCapacity}, and raising MinSize to ${record.from} would launch instances; raise it yourself when that is right`;
}

/**
 * The MinSize step when the target cannot be put back (terminated, its root volume lost): the
 * instance will not return to the group, so the group's own minimum is what its owner set and the
 * workflow raises it back whatever the desired capacity (nothing is left behind, I2). Below that
 * minimum, UpdateAutoScalingGroup raises the desired capacity with it ("If you specify a new value
 * for MinSize without specifying a value for DesiredCapacity, and the new MinSize is larger than the
 * current size of the group, this sets the group's DesiredCapacity to the new MinSize value",
 * UpdateAutoScalingGroup's API reference): the group replaces the lost instance, as it would have
 * had the reset not lowered its minimum. Only while MinSize is still what the workflow set.
 */
export function minSizeAfterUnrecoverable(observed: MinSizeObservation, plan: ResetPlan): { kind: 'restore-min-size'; groupName: string; value: number } | undefined {
  const record = observed.minSizeRecord;
  const group = observed.autoScalingGroup;
  if (!plan.minSizeLowering || !record || !group || group.minSize !== record.to || record.from === record.to) return undefined;
  return { kind: 'restore-min-size', groupName: record.groupName, value: record.from };
}

/**
 * What the error of an unrecoverable restore says about MinSize, from the plan and the group as it is
 * (not the journal: the state machine retries the failed restore after the lock, and its record, are
 * gone, and the error of the last attempt is the one the execution fails with). Undefined when the plan
 * never lowered MinSize or the group is gone.
 */
export function unrecoverableMinSizeNote(observed: MinSizeObservation, plan: ResetPlan): string | undefined {
  const lowering = plan.minSizeLowering;
  const group = observed.autoScalingGroup;
  if (!lowering || !group) return undefined;
  const name = plan.autoScalingGroupName;
  if (group.minSize === lowering.from) {
    return `The MinSize of the Auto Scaling group ${name} is ${lowering.from}, as before the reset; the group launches an instance if it has fewer.`;
  }
  return `The MinSize of the Auto Scaling group ${name} is ${group.minSize}, not the ${lowering.from} it was before the reset (someone changed it, so the workflow left it): set it back if that is right.`;
}
