import { fleetRowLine, LiveFleetRow, liveTableLines } from './core/fleet-table';
import type { OutputStream } from './environment';

/** Shows a running fleet: each instance's step and outcome, after every poll. */
export interface FleetProgressView {
  /** Shows the instances as they are now; `elapsedMs` since the fleet started. */
  show(rows: readonly LiveFleetRow[], elapsedMs: number): void;
  /**
   * The fleet ended (or the CLI stops following it). `clear`: take the view off the screen, because
   * the outcome of every instance is printed next on the same terminal.
   */
  close(options?: { clear?: boolean }): void;
}

/** Nothing (`--json`: stdout carries one document and nothing else is written). */
export class SilentFleetView implements FleetProgressView {
  public show(): void {}
  public close(): void {}
}

/**
 * One line each time an instance's reset enters another state or ends (instance, AZ, state or
 * status): for pipes, CI logs and files, where nothing can be redrawn.
 */
export class PlainFleetView implements FleetProgressView {
  private readonly shown = new Map<string, string>();

  constructor(private readonly out: OutputStream) {}

  public show(rows: readonly LiveFleetRow[]): void {
    for (const row of rows) {
      if (row.status === undefined) continue;
      const now = row.status === 'RUNNING' ? row.state : row.status;
      if (this.shown.get(row.instanceId) === now) continue;
      this.shown.set(row.instanceId, now);
      this.out.write(`${fleetRowLine({ instanceId: row.instanceId, availabilityZone: row.availabilityZone, step: now, outcome: '' })}\n`);
    }
  }

  public close(): void {}
}

/** Control sequences (ECMA-48): cursor up `n` lines, and erase from the cursor to the end of the screen. */
const CSI = '\u001b[';
const cursorUp = (n: number) => `${CSI}${n}A`;
const ERASE_DOWN = `${CSI}J`;

/**
 * The table redrawn in place on a terminal: each frame moves the cursor back to the first line
 * of the previous one, erases down, and writes the new frame, in one write so it never flickers.
 * Lines never wrap (`liveTableLines` cuts them to the width), so the cursor goes up exactly as many
 * lines as were written; should the terminal have narrowed since, it counts the lines the old frame
 * wraps to now.
 */
export class LiveFleetView implements FleetProgressView {
  private previous: string[] = [];

  constructor(private readonly out: OutputStream) {}

  public show(rows: readonly LiveFleetRow[], elapsedMs: number): void {
    const lines = liveTableLines(rows, { columns: this.columns, rows: this.out.rows }, elapsedMs);
    this.out.write(`${this.eraseFrame()}${lines.join('\n')}\n`);
    this.previous = lines;
  }

  public close(options: { clear?: boolean } = {}): void {
    if (options.clear && this.previous.length > 0) this.out.write(this.eraseFrame());
    this.previous = [];
  }

  private get columns(): number {
    return this.out.columns ?? 80;
  }

  private eraseFrame(): string {
    const height = this.previous.reduce((sum, line) => sum + Math.max(1, Math.ceil(line.length / this.columns)), 0);
    return height > 0 ? `${cursorUp(height)}${ERASE_DOWN}` : '';
  }
}
