import { finishedStepText, plainStepLine, spinnerText } from './core/format';
import type { ProgressChange, ProgressTracker } from './core/history';
import type { OutputStream, SpinnerLike } from './environment';

/** Shows an execution's progress as it happens. */
export interface ProgressRenderer {
  /** Shows what changed; `tracker` has the whole picture. */
  update(changes: readonly ProgressChange[], tracker: ProgressTracker): void;
  /** Stops animating (the execution finished, or the CLI detaches). */
  close(): void;
}

/** Nothing (`--json`: stdout carries one document and nothing else is written). */
export class SilentRenderer implements ProgressRenderer {
  public update(): void {}
  public close(): void {}
}

/** One line per step start, detail and end: for pipes, CI logs and files. */
export class PlainRenderer implements ProgressRenderer {
  constructor(private readonly out: OutputStream) {}

  public update(changes: readonly ProgressChange[], tracker: ProgressTracker): void {
    const start = tracker.startedAt ?? new Date(0);
    for (const change of changes) {
      if (change.kind === 'finished') continue;
      this.out.write(`${plainStepLine(change.kind, change.step, start, change.kind === 'detail' ? change.detail : undefined)}\n`);
    }
  }

  public close(): void {}
}

/**
 * A spinner on the running steps (their detail and elapsed time, refreshed every second), and a
 * ✔/✖/⚠ line left behind by each step that ends.
 */
export class TerminalRenderer implements ProgressRenderer {
  private tracker?: ProgressTracker;
  private spinning = false;
  private readonly timer?: ReturnType<typeof setInterval>;

  constructor(private readonly spinner: SpinnerLike, private readonly now: () => Date, refreshMs = 1000) {
    if (refreshMs > 0) {
      this.timer = setInterval(() => this.refresh(), refreshMs);
      this.timer.unref?.();
    }
  }

  public update(changes: readonly ProgressChange[], tracker: ProgressTracker): void {
    this.tracker = tracker;
    for (const change of changes) {
      if (change.kind !== 'ended') continue;
      const text = finishedStepText(change.step);
      if (change.step.status === 'failed') this.spinner.fail(text);
      else if (change.step.status === 'stopped') this.spinner.warn(text);
      else this.spinner.succeed(text);
      this.spinning = false;
    }
    this.refresh();
  }

  public close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.spinning) this.spinner.stop();
    this.spinning = false;
  }

  private refresh(): void {
    const running = this.tracker?.steps.filter(step => step.status === 'running') ?? [];
    if (running.length === 0) {
      if (this.spinning) this.spinner.stop();
      this.spinning = false;
      return;
    }
    const text = spinnerText(running, this.now());
    if (this.spinning) {
      this.spinner.text = text;
    } else {
      this.spinner.start(text);
      this.spinning = true;
    }
  }
}
