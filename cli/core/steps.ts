/**
 * The reset state machine's states, grouped into the steps an operator cares about. A poll loop
 * (`<Task>Start`, `<Task>`, `<Task>Done?`, `<Task>Wait`, `<Task>Count`) is one step. States not
 * listed (choices, outputs, the Parallel itself) are not shown. A test checks that every Task
 * state of the synthesized definition belongs to a step, so a renamed state cannot go unseen.
 */

/** Steps in one lane run one after the other; the `target` and `helper` lanes run in parallel. */
export type Lane = 'main' | 'target' | 'helper';

export interface StepDefinition {
  readonly id: string;
  readonly label: string;
  /**
   * The label when the reset runs the online method (known from the preflight's plan), for steps
   * that do something else then: the online method leaves the instance running and its volume in
   * place, so its restore only releases the lock.
   */
  readonly onlineLabel?: string;
  readonly lane: Lane;
  /** States that belong to the step as they are. */
  readonly states?: readonly string[];
  /** Tasks whose whole poll loop belongs to the step. */
  readonly pollLoops?: readonly string[];
  /** Entering this step means the reset failed and the instance is being put back. */
  readonly isFailurePath?: boolean;
  /**
   * The state whose (successful) exit ends the step. Absent: the step ends when the next step of
   * its lane starts, or with the execution. Steps that end a parallel lane need one, or they would
   * seem to run until the other lane is done.
   */
  readonly endState?: string;
}

export const STEP_DEFINITIONS: readonly StepDefinition[] = [
  { id: 'preflight', label: 'Preflight checks', lane: 'main', states: ['ReadRequest', 'Preflight'], endState: 'Preflight' },
  { id: 'lock', label: 'Take the instance\'s lock', lane: 'main', states: ['AcquireLock'], endState: 'AcquireLock' },
  { id: 'stop', label: 'Stop the instance', lane: 'target', pollLoops: ['PrepareTarget'] },
  { id: 'backup', label: 'Create the backup image', lane: 'target', states: ['CreateBackupImage'], endState: 'CreateBackupImage' },
  // On-demand endpoints (the default): requested before the helper's launch, waited for after it.
  { id: 'open-endpoints', label: 'Open the rescue network (interface endpoints)', lane: 'helper', states: ['OpenEndpoints'], endState: 'OpenEndpoints' },
  { id: 'launch-helper', label: 'Launch the helper instance', lane: 'helper', states: ['LaunchHelper'], endState: 'LaunchHelper' },
  { id: 'endpoints-ready', label: 'Wait for the interface endpoints', lane: 'helper', pollLoops: ['CheckEndpoints'] },
  { id: 'helper-ready', label: 'Wait for the helper in Systems Manager', lane: 'helper', pollLoops: ['CheckHelperReady'] },
  {
    id: 'install',
    label: 'Install EC2Rescue on the helper',
    lane: 'helper',
    states: ['SendInstallEc2Rescue', 'HelperPrepared'],
    pollLoops: ['CheckInstall'],
    endState: 'HelperPrepared',
  },
  { id: 'attach', label: 'Attach the root volume to the helper', lane: 'main', pollLoops: ['AttachToHelper'] },
  { id: 'offline-fix', label: 'Enable password generation (EC2Rescue, offline)', lane: 'main', states: ['SendOfflineFix'], pollLoops: ['CheckOfflineFix'] },
  { id: 'online-reset', label: 'Reset the password (EC2Rescue, online)', lane: 'main', states: ['SendOnlineReset'], pollLoops: ['CheckOnlineReset'] },
  { id: 'restore', label: 'Put the instance back', onlineLabel: 'Release the instance\'s lock', lane: 'main', pollLoops: ['RestoreAfterSuccess'] },
  { id: 'password', label: 'Wait for Windows to generate the password', lane: 'main', pollLoops: ['CheckPassword'] },
  {
    id: 'restore-after-failure',
    label: 'Put the instance back after the failure',
    onlineLabel: 'Release the instance\'s lock after the failure',
    lane: 'main',
    states: ['RecordFailure'],
    pollLoops: ['RestoreAfterFailure'],
    isFailurePath: true,
  },
];

/**
 * The restore state machine's states (started by EventBridge when a reset ends ABORTED, TIMED_OUT,
 * or FAILED outside its own failure path): read the reset's journal, then put the instance back.
 * `JournalFound?`, `Restored`, `NothingToRestore` and the `RestoreIncomplete` Fail state are not shown.
 */
export const RESTORE_STEP_DEFINITIONS: readonly StepDefinition[] = [
  { id: 'restore-journal', label: 'Read what the reset changed (restore state machine)', lane: 'main', states: ['LoadJournal'], endState: 'LoadJournal' },
  {
    id: 'restore-machine',
    label: 'Put the instance back (restore state machine)',
    lane: 'main',
    states: ['UseJournalPlan'],
    pollLoops: ['Restore'],
  },
];

const POLL_LOOP_SUFFIXES = ['', 'Start', 'Done?', 'Wait', 'Count'];

/** The steps of one state machine, by state name. */
export class StepCatalog {
  private readonly byState: ReadonlyMap<string, StepDefinition>;

  constructor(public readonly definitions: readonly StepDefinition[]) {
    this.byState = new Map(definitions.flatMap(step => [
      ...(step.states ?? []).map(state => [state, step] as const),
      ...(step.pollLoops ?? []).flatMap(task => POLL_LOOP_SUFFIXES.map(suffix => [`${task}${suffix}`, step] as const)),
    ]));
  }

  /** The step a state belongs to, if it is shown. */
  public stepOf(stateName: string): StepDefinition | undefined {
    return this.byState.get(stateName);
  }

  /** Whether the step (by id) is the reset's own failure path (its in-machine restore). */
  public isFailurePath(stepId: string): boolean {
    return this.definitions.some(definition => definition.id === stepId && definition.isFailurePath === true);
  }
}

/** The reset state machine's steps. */
export const RESET_STEPS = new StepCatalog(STEP_DEFINITIONS);
/** The restore state machine's steps. */
export const RESTORE_STEPS = new StepCatalog(RESTORE_STEP_DEFINITIONS);

/** The step a state of the reset state machine belongs to, if it is shown. */
export function stepOfState(stateName: string): StepDefinition | undefined {
  return RESET_STEPS.stepOf(stateName);
}
