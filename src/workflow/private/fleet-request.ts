import { Acknowledgement, ERRORS, RequestedMethod, ResetRequest } from './contracts';
import { WorkflowError } from './errors';
import { FleetBounds, FleetPlan } from './fleet-plan';
import { checkResetOptions, inputObject, INSTANCE_ID_PATTERN } from './request';

/**
 * The fleet reset's input, its deploy-time configuration, and the child requests it starts
 * (issue 14). A fleet request is a single reset's request with `targets` in place of `instanceId`.
 */

/** Environment variable that carries the JSON-encoded {@link FleetConfig} to the fleet-plan step. */
export const FLEET_CONFIG_ENV = 'RESET_FLEET_CONFIG';

/** Instances chosen by a tag: every instance (not terminated) with `tagKey` set to one of `tagValues`. */
export interface FleetTagSelector {
  readonly tagKey: string;
  readonly tagValues: string[];
}

/** Execution input of the fleet state machine. */
export interface FleetRequest {
  readonly targets: string[] | FleetTagSelector;
  readonly method?: RequestedMethod;
  readonly passwordEnabledAmi?: boolean;
  readonly acknowledge?: Acknowledgement[];
  readonly dryRun?: boolean;
}

/** Deploy-time configuration of the fleet-plan step (set by the FleetReset construct). */
export interface FleetConfig {
  readonly bounds: FleetBounds;
  /**
   * The helper instance types the workflow may launch (its `helperInstanceTypes`: the configured type,
   * then the fallbacks): the plan reads their vCPUs from EC2 and counts the largest.
   */
  readonly helperInstanceTypes: string[];
  /** FleetReset's `helperVcpus` override: when set, the plan counts this and reads no instance type. */
  readonly helperVcpus?: number;
  /** Modelled minutes of one reset, for the plan's expected time. */
  readonly minutesPerReset: number;
}

/** A request with every optional field filled with its default (targets not yet resolved). */
export interface ValidFleetRequest {
  readonly targets: string[] | FleetTagSelector;
  readonly method: RequestedMethod;
  readonly passwordEnabledAmi: boolean;
  readonly acknowledge: Acknowledgement[];
  readonly dryRun: boolean;
}

const FIELDS = ['targets', 'method', 'passwordEnabledAmi', 'acknowledge', 'dryRun'];
/** EC2 takes at most 200 values in one filter (DescribeInstances, "Filters"). */
const MAX_TAG_VALUES = 200;

function invalid(message: string): WorkflowError {
  return new WorkflowError(ERRORS.invalidInput, message);
}

/**
 * Checks the fleet input before anything is read: `InvalidInput` with a sentence that says what to
 * change. The shared fields are checked as a single reset checks them (the child's preflight checks
 * them again, per instance).
 */
export function validateFleetRequest(input: unknown): ValidFleetRequest {
  const r = inputObject(input, FIELDS, '{"targets": ["i-0123456789abcdef0"]} or {"targets": {"tagKey": "team", "tagValues": ["web"]}}');
  const targets = validateTargets(r.targets);
  checkResetOptions(r);
  return {
    targets,
    method: (r.method as RequestedMethod | undefined) ?? 'auto',
    passwordEnabledAmi: (r.passwordEnabledAmi as boolean | undefined) ?? false,
    acknowledge: [...new Set((r.acknowledge as Acknowledgement[] | undefined) ?? [])],
    dryRun: (r.dryRun as boolean | undefined) ?? false,
  };
}

function validateTargets(targets: unknown): string[] | FleetTagSelector {
  if (Array.isArray(targets)) {
    const bad = targets.filter(t => typeof t !== 'string' || !INSTANCE_ID_PATTERN.test(t));
    if (bad.length > 0) {
      throw invalid(`Give targets as EC2 instance ids such as i-0123456789abcdef0 (not ${bad.slice(0, 3).map(b => JSON.stringify(b)).join(', ')}).`);
    }
    if (targets.length === 0) {
      throw new WorkflowError(ERRORS.fleetSelectionEmpty, 'The targets list is empty: give at least one instance id, or a tag selector.');
    }
    return [...new Set(targets as string[])];
  }
  if (targets && typeof targets === 'object') {
    const t = targets as Record<string, unknown>;
    const extra = Object.keys(t).filter(k => k !== 'tagKey' && k !== 'tagValues');
    if (typeof t.tagKey !== 'string' || t.tagKey.length === 0 || t.tagKey.length > 128 || extra.length > 0
      || !Array.isArray(t.tagValues) || t.tagValues.length === 0 || t.tagValues.length > MAX_TAG_VALUES
      || !t.tagValues.every(v => typeof v === 'string')) {
      throw invalid(`Give the tag selector as {"tagKey": "<1 to 128 characters>", "tagValues": ["<1 to ${MAX_TAG_VALUES} values>"]} and nothing else.`);
    }
    return { tagKey: t.tagKey, tagValues: [...new Set(t.tagValues as string[])] };
  }
  throw invalid('Set targets to a list of instance ids, or to {"tagKey": ..., "tagValues": [...]}.');
}

/** The child reset's input for one instance: the fleet's shared fields, nothing else (the preflight refuses unknown fields). */
export function childRequest(instanceId: string, request: ValidFleetRequest, dryRun: boolean): ResetRequest {
  return {
    instanceId,
    method: request.method,
    passwordEnabledAmi: request.passwordEnabledAmi,
    acknowledge: request.acknowledge,
    dryRun,
  };
}

/** What the fleet-plan step returns: the targets as resolved (recorded in the execution), the plan, and the waves' child inputs. */
export interface FleetPlanResult {
  /** How the targets were chosen: `ids`, or `tag <key>=<values>` resolved at start. */
  readonly selection: string;
  readonly targets: { instanceId: string; availabilityZone: string; autoScalingGroupName?: string }[];
  readonly plan: FleetPlan;
  /** The child inputs, wave by wave (`dryRun` as asked: a dry run's children plan and change nothing). */
  readonly waves: { requests: ResetRequest[] }[];
  readonly dryRun: boolean;
}

/** Parses and checks the JSON-encoded {@link FleetConfig}. */
export function parseFleetConfig(raw: string | undefined): FleetConfig {
  let parsed: Record<string, any> | undefined;
  try {
    parsed = raw ? JSON.parse(raw) : undefined;
  } catch {
    parsed = undefined;
  }
  const bounds = parsed?.bounds as Record<string, unknown> | undefined;
  const ok = parsed !== undefined && bounds !== undefined
    && ['maxDown', 'maxDownPerAz', 'maxDownPerGroup', 'maxHelpers', 'maxTargets'].every(k => typeof bounds[k] === 'number')
    && Array.isArray(parsed.helperInstanceTypes) && parsed.helperInstanceTypes.length > 0
    && parsed.helperInstanceTypes.every((t: unknown) => typeof t === 'string')
    && (parsed.helperVcpus === undefined || (typeof parsed.helperVcpus === 'number' && parsed.helperVcpus > 0))
    && typeof parsed.minutesPerReset === 'number';
  if (!ok) {
    throw new Error(`${FLEET_CONFIG_ENV} is missing or lacks bounds, helperInstanceTypes or minutesPerReset: redeploy the FleetReset construct.`);
  }
  return parsed as FleetConfig;
}
