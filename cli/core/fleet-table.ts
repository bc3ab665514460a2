/**
 * The fleet command's tables: while the fleet runs, one row per instance (instance, AZ, step,
 * outcome) that fits the terminal; once it ended, every instance's outcome and the counts.
 */
import { formatDuration } from './format';
import { stepOfState } from './steps';

export interface FleetRow {
  readonly instanceId: string;
  readonly availabilityZone: string;
  /** The step its reset is in (while it runs). */
  readonly step: string;
  /** succeeded, planned, refused, failed, not-started (once the fleet ended). */
  readonly outcome: string;
  readonly error?: string;
}

export function fleetRowLine(row: FleetRow): string {
  const last = row.outcome ? `${row.outcome}${row.error ? ` (${row.error})` : ''}` : row.step;
  return `${row.instanceId.padEnd(20)} ${row.availabilityZone.padEnd(12)} ${last}`;
}

export function fleetSummaryLines(rows: readonly FleetRow[], counts: Record<string, number>, dryRun: boolean): string[] {
  const order = dryRun ? ['planned', 'refused', 'not-started'] : ['succeeded', 'failed', 'refused', 'not-started'];
  const total = order.map(k => `${counts[k] ?? 0} ${k}`).join(', ');
  return [
    `${'instance'.padEnd(20)} ${'AZ'.padEnd(12)} outcome`,
    ...rows.map(fleetRowLine),
    `${rows.length} instances: ${total}`,
  ];
}

/** An instance of a running fleet, as the CLI last saw its reset execution. */
export interface LiveFleetRow {
  readonly instanceId: string;
  readonly availabilityZone: string;
  /** The state its reset execution last entered ('' before it started). */
  readonly state: string;
  /** What the operator reads for that state: its step's label (`Stop the instance`). */
  readonly step: string;
  /** Its reset execution's status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED); absent before it started. */
  readonly status?: string;
}

/**
 * The step to show after the reset entered `state`: the step's label, or, for a state that is no
 * step of its own (a Choice, a Pass), the step shown before, so the column does not flicker.
 */
export function stepLabel(state: string, previous: string): string {
  return stepOfState(state)?.label ?? (previous || state);
}

/** The outcome column while the fleet runs, from the instance's reset execution status. */
export function liveOutcome(status: string | undefined): string {
  switch (status) {
    case undefined: return 'waiting';
    case 'RUNNING': return 'running';
    case 'SUCCEEDED': return 'succeeded';
    case 'FAILED': return 'failed';
    case 'TIMED_OUT': return 'timed out';
    case 'ABORTED': return 'stopped';
    default: return status.toLowerCase();
  }
}

/** The order the counts line lists outcomes in. */
const LIVE_OUTCOMES = ['running', 'succeeded', 'failed', 'timed out', 'stopped', 'waiting'];

/**
 * Which rows stay on a screen too short for all: those that need the operator's eyes first.
 * Lower ranks are kept first; rows of one rank keep the plan's order.
 */
function rank(outcome: string): number {
  if (outcome === 'running') return 0;
  if (outcome === 'waiting') return 2;
  if (outcome === 'succeeded') return 3;
  return 1; // failed, timed out, stopped: the rows an operator acts on
}

/** The terminal the table is drawn on. */
export interface TerminalSize {
  /** Characters per line; no line of the table is longer than `columns - 1`, so none wraps. */
  readonly columns: number;
  /** Lines on the screen, when known: the table keeps within `rows - 1` so its top never scrolls away. */
  readonly rows?: number;
}

/**
 * The live table, as lines to draw: a header, one row per instance (instance, AZ, step, outcome),
 * then the counts and the time since the fleet started. It fits `size`: no line wraps, and on a
 * screen too short for every row it keeps the running and failed rows, then the waiting ones, and
 * says how many more there are. Redrawing replaces exactly these lines, so they must never wrap.
 */
export function liveTableLines(rows: readonly LiveFleetRow[], size: TerminalSize, elapsedMs: number): string[] {
  const elapsed = formatDuration(elapsedMs);
  if (rows.length === 0) return [fit(`Planning the fleet… ${elapsed}`, size.columns)];

  const cells = rows.map(row => [row.instanceId, row.availabilityZone, row.step || '-', liveOutcome(row.status)]);
  const header = ['instance', 'AZ', 'step', 'outcome'];
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map(c => c[i].length)));
  const line = (c: readonly string[]) => c.map((text, i) => (i < c.length - 1 ? text.padEnd(widths[i]) : text)).join('  ');

  const outcomes = cells.map(c => c[3]);
  const counts = `${rows.length} instances: ${countList(outcomes)} · ${elapsed}`;
  // The smallest frame: header, one row, the "more" line and the counts.
  const room = Math.max(4, (size.rows ?? Infinity) - 1);
  let body: string[];
  if (rows.length + 2 <= room) {
    body = cells.map(line);
  } else {
    const kept = room - 3;
    const chosen = new Set(cells.map((_, i) => i).sort((a, b) => rank(outcomes[a]) - rank(outcomes[b]) || a - b).slice(0, kept));
    const hidden = outcomes.filter((_, i) => !chosen.has(i));
    body = [...cells.filter((_, i) => chosen.has(i)).map(line), `… ${hidden.length} more: ${countList(hidden)}`];
  }
  return [line(header), ...body, counts].map(text => fit(text, size.columns));
}

function countList(outcomes: readonly string[]): string {
  const known = LIVE_OUTCOMES.filter(o => outcomes.includes(o));
  const others = [...new Set(outcomes.filter(o => !LIVE_OUTCOMES.includes(o)))];
  return [...known, ...others].map(o => `${outcomes.filter(x => x === o).length} ${o}`).join(', ');
}

/** The line cut to `columns - 1` characters (an ellipsis marks the cut), so the terminal never wraps it. */
function fit(text: string, columns: number): string {
  const max = Math.max(1, columns - 1);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
