/**
 * Modelled time. The rehearsal never sleeps: a virtual clock says what time it is, `Date` reads it
 * (so the handlers' `Date.now()`, Powertools' timestamps and the executor's `$$.Execution.StartTime`
 * are virtual), and a scheduler decides which execution thread runs next.
 *
 * Threads: a state machine execution is one thread, each branch of a Parallel state another. Each
 * thread has its own modelled time (the state it is in started then); Wait states and retries move
 * it forward, tasks move it by their modelled duration. The scheduler runs the thread that is
 * earliest in modelled time, one task at a time, so two branches overlap in modelled time as they
 * would in Step Functions while running one after the other in this process.
 */

/** The rehearsal's epoch: an arbitrary Monday morning, UTC. */
export const REHEARSAL_EPOCH = Date.UTC(2025, 5, 2, 9, 0, 0);

export class VirtualClock {
  private nowMs: number;

  constructor(startMs: number = REHEARSAL_EPOCH) {
    this.nowMs = startMs;
  }

  /** Modelled now, in epoch milliseconds. */
  public now(): number {
    return this.nowMs;
  }

  /** Moves the clock to `ms`; time never goes back. */
  public set(ms: number): void {
    if (ms < this.nowMs) throw new Error(`The virtual clock cannot go back from ${this.nowMs} to ${ms}`);
    this.nowMs = ms;
  }

  public advance(seconds: number): void {
    this.set(this.nowMs + seconds * 1000);
  }
}

/**
 * Makes `Date.now()` and `new Date()` read the clock until the returned function is called.
 * `Date` with arguments, `Date.UTC` and `Date.parse` behave as usual.
 */
export function installVirtualDate(clock: VirtualClock): () => void {
  const RealDate = globalThis.Date;
  class VirtualDate extends RealDate {
    public static now(): number {
      return clock.now();
    }

    constructor(...args: unknown[]) {
      if (args.length === 0) {
        super(clock.now());
      } else {
        super(...(args as [string | number | Date]));
      }
    }
  }
  globalThis.Date = VirtualDate as DateConstructor;
  return () => {
    globalThis.Date = RealDate;
  };
}

/** Raised into a thread whose execution was stopped while it waited for its turn. */
export class ThreadStopped extends Error {
  constructor(thread: string) {
    super(`Thread ${thread} was stopped`);
    this.name = 'Rehearsal.ThreadStopped';
  }
}

interface Request {
  readonly thread: string;
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * A guard at a request: returns false to refuse the grant (the request is then rejected with
 * {@link ThreadStopped}); it may stop the thread's execution (an execution timeout).
 */
export type GrantGuard = (thread: string, atMs: number) => boolean;

/**
 * Grants turns to threads in modelled-time order. A thread asks for its turn (`turn`), runs its
 * task when granted, and reports how long the task took (`finish`). Turns are granted only when
 * the process is quiescent (every other thread is blocked in `turn`, or done), so the order is
 * the modelled order, not the order promises happened to settle in.
 */
export class Scheduler {
  private readonly times = new Map<string, number>();
  private readonly stopped = new Set<string>();
  private readonly pending: Request[] = [];
  private running: string | undefined;
  private pumping = false;
  private seq = 0;
  /** Guards consulted before a grant (execution timeouts). */
  public readonly guards: GrantGuard[] = [];

  constructor(public readonly clock: VirtualClock) {}

  /** Starts a thread at modelled time `atMs` (default: now). */
  public start(thread: string, atMs: number = this.clock.now()): void {
    this.times.set(thread, atMs);
    this.stopped.delete(thread);
  }

  /** The thread's modelled time. */
  public timeOf(thread: string): number {
    const t = this.times.get(thread);
    if (t === undefined) throw new Error(`Unknown thread ${thread}`);
    return t;
  }

  public setTime(thread: string, atMs: number): void {
    this.times.set(thread, Math.max(atMs, this.times.get(thread) ?? atMs));
  }

  /** Moves a thread forward (a Wait state, a retry interval). */
  public advance(thread: string, seconds: number): void {
    this.times.set(thread, this.timeOf(thread) + seconds * 1000);
  }

  /** Stops threads: their pending and future turns are refused. */
  public stop(...threads: string[]): void {
    for (const thread of threads) this.stopped.add(thread);
    for (const request of [...this.pending]) {
      if (this.stopped.has(request.thread)) {
        this.pending.splice(this.pending.indexOf(request), 1);
        request.reject(new ThreadStopped(request.thread));
      }
    }
  }

  public isStopped(thread: string): boolean {
    return this.stopped.has(thread);
  }

  /** Waits for the thread's turn; the clock then reads the thread's modelled time. */
  public turn(thread: string): Promise<void> {
    if (this.stopped.has(thread)) return Promise.reject(new ThreadStopped(thread));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ thread, seq: this.seq++, resolve, reject });
      this.schedulePump();
    });
  }

  /** Ends the thread's turn: its task took `seconds` of modelled time. */
  public finish(thread: string, seconds: number): void {
    if (this.running !== thread) throw new Error(`Thread ${thread} finished a turn it did not have (running: ${this.running})`);
    this.running = undefined;
    this.times.set(thread, this.clock.now() + seconds * 1000);
    this.schedulePump();
  }

  /** Resolves once no thread is running and none is waiting for a turn. */
  public async idle(): Promise<void> {
    for (;;) {
      await quiescence();
      if (this.running === undefined && this.pending.length === 0 && !this.pumping) return;
    }
  }

  private schedulePump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void quiescence().then(() => {
      this.pumping = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.running === undefined && this.pending.length > 0) {
      this.pending.sort((a, b) => (this.timeOf(a.thread) - this.timeOf(b.thread)) || (a.seq - b.seq));
      const next = this.pending.shift()!;
      const at = Math.max(this.timeOf(next.thread), this.clock.now());
      if (this.stopped.has(next.thread) || !this.guards.every(guard => guard(next.thread, at))) {
        next.reject(new ThreadStopped(next.thread));
        continue;
      }
      this.clock.set(at);
      this.times.set(next.thread, at);
      this.running = next.thread;
      next.resolve();
    }
  }
}

/** Resolves after every pending microtask, and those they queue, have run (two macrotask turns). */
export function quiescence(): Promise<void> {
  return new Promise(resolve => setImmediate(() => setImmediate(resolve)));
}
