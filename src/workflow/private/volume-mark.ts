import { ResetPlan, TAGS, WorkflowConfig } from './contracts';

/**
 * The mark on the target's root volume while a reset holds it: the workflow tag (which the IAM
 * conditions on detach, attach and DeleteOnTermination require, see policies.ts) and the execution
 * that holds it (for people looking at the volume). Written by prepare-target before anything
 * changes; removed by the restore once the volume is back on the target with DeleteOnTermination
 * as it was. A volume left on a terminated target keeps it, so an operator can still move it.
 */
export function rootVolumeMark(plan: Pick<ResetPlan, 'executionName'>, config: Pick<WorkflowConfig, 'workflowId'>): { Key: string; Value: string }[] {
  return [
    { Key: TAGS.workflow, Value: config.workflowId },
    { Key: TAGS.execution, Value: plan.executionName },
  ];
}

/** Whether a volume's tags carry this workflow's mark. */
export function isMarked(tags: Readonly<Record<string, string>> | undefined, config: Pick<WorkflowConfig, 'workflowId'>): boolean {
  return tags?.[TAGS.workflow] === config.workflowId;
}
