/**
 * The CLI's exit codes, documented in the README ("Operating it"). Scripts may rely on them:
 * change one only with a major version.
 */
export const EXIT_CODES = {
  /** The command did what was asked: the reset succeeded, the plan was made, the password was printed. */
  ok: 0,
  /** The reset failed, timed out or was stopped, or the preflight found a blocker (see the error name). */
  resetFailed: 1,
  /** The command line is wrong: unknown option, bad instance id, missing argument. */
  usage: 2,
  /** AWS access: no credentials, no Region, access denied, or no reset (or fleet) state machine deployed there. */
  setup: 3,
  /** Not found or not yet there: the instance, the execution, the password data or the password parameter. */
  notFound: 4,
  /** The key file cannot be read or does not decrypt this instance's password. */
  key: 5,
  /** AWS could not be reached: no network, a Region whose endpoint does not resolve, a proxy or firewall in the way. */
  network: 6,
  /** Anything else (an AWS error the CLI does not know): the message says what AWS answered. */
  unexpected: 10,
  /** Ctrl-C while watching: the CLI detached, the reset goes on. Resume with `status <execution-arn>`. */
  detached: 130,
} as const;

export type ExitCode = typeof EXIT_CODES[keyof typeof EXIT_CODES];
