/**
 * What the steps observe of EC2, as plain data for the pure decision functions
 * (`prepare-target-plan.ts`, `attach-plan.ts`, `restore-plan.ts`).
 */

/** One attachment of a volume (`DescribeVolumes` `Attachments[]`). */
export interface AttachmentObservation {
  readonly instanceId: string;
  readonly device: string;
  /** attaching | attached | detaching | detached | busy */
  readonly state: string;
}

/** A volume and its current attachment, if any. */
export interface VolumeObservation {
  /** creating | available | in-use | deleting | deleted | error */
  readonly state: string;
  readonly attachment?: AttachmentObservation;
  /** The volume's tags (the workflow's mark, volume-mark.ts). */
  readonly tags?: Readonly<Record<string, string>>;
}

/** How long the state machine should wait before the next poll, per kind of wait. */
export const WAIT_SECONDS = {
  /** After an action that completes in seconds (attach, detach, standby). */
  short: 5,
  /** Instance stop and start. */
  instance: 15,
} as const;
