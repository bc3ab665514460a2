import { LiveFleetRow, liveTableLines } from '../../cli/core/fleet-table';
import { LiveFleetView, PlainFleetView } from '../../cli/fleet-progress';

/** A terminal as the view sees it: every write kept, in order. */
class FakeTty {
  public readonly isTTY = true;
  public readonly writes: string[] = [];
  constructor(public columns: number, public readonly rows?: number) {}
  public write(chunk: string): boolean {
    this.writes.push(chunk);
    return true;
  }
}

const UP = (n: number) => `\u001b[${n}A`;
const ERASE_DOWN = '\u001b[J';
const A = 'i-0123456789abcdef0';
const B = 'i-0123456789abcdef1';
const at = (step: string, status?: string): Pick<LiveFleetRow, 'state' | 'step' | 'status'> => ({ state: step, step, status });

describe('LiveFleetView', () => {
  test('draws the table, then redraws it in place: cursor up over the previous frame, erase down, the new frame, in one write', () => {
    // GIVEN
    const tty = new FakeTty(100, 40);
    const view = new LiveFleetView(tty);
    const first: LiveFleetRow[] = [{ instanceId: A, availabilityZone: 'eu-west-1a', ...at('Stop the instance', 'RUNNING') }, { instanceId: B, availabilityZone: 'eu-west-1b', ...at('') }];
    const second: LiveFleetRow[] = [{ ...first[0], ...at('Create the backup image', 'RUNNING') }, { ...first[1], ...at('Preflight checks', 'RUNNING') }];

    // WHEN
    view.show(first, 5_000);
    view.show(second, 10_000);

    // THEN
    const frame1 = liveTableLines(first, { columns: 100, rows: 40 }, 5_000);
    const frame2 = liveTableLines(second, { columns: 100, rows: 40 }, 10_000);
    expect(frame1).toHaveLength(4);
    expect(tty.writes).toEqual([
      `${frame1.join('\n')}\n`,
      `${UP(4)}${ERASE_DOWN}${frame2.join('\n')}\n`,
    ]);
    expect(tty.writes[1]).toContain(`${A}  eu-west-1a  Create the backup image  running`);
  });

  test('a terminal narrowed since the last frame: the cursor goes up over the lines the old frame wraps to now', () => {
    // GIVEN
    const tty = new FakeTty(100);
    const view = new LiveFleetView(tty);
    const rows: LiveFleetRow[] = [{ instanceId: A, availabilityZone: 'eu-west-1a', ...at('Wait for Windows to generate the password', 'RUNNING') }];
    view.show(rows, 0);
    const before = liveTableLines(rows, { columns: 100 }, 0);

    // WHEN
    tty.columns = 40;
    view.show(rows, 1_000);

    // THEN
    const wrapped = before.reduce((n, line) => n + Math.ceil(line.length / 40), 0);
    expect(wrapped).toBeGreaterThan(before.length);
    expect(tty.writes[1].startsWith(`${UP(wrapped)}${ERASE_DOWN}`)).toBe(true);
  });

  test('close({ clear }) takes the table off the screen; close() leaves the last frame', () => {
    // GIVEN
    const rows: LiveFleetRow[] = [{ instanceId: A, availabilityZone: 'eu-west-1a', ...at('Stop the instance', 'SUCCEEDED') }];
    const cleared = new FakeTty(100);
    const kept = new FakeTty(100);

    // WHEN
    const a = new LiveFleetView(cleared);
    a.show(rows, 0);
    a.close({ clear: true });
    const b = new LiveFleetView(kept);
    b.show(rows, 0);
    b.close();

    // THEN
    expect(cleared.writes).toHaveLength(2);
    expect(cleared.writes[1]).toBe(`${UP(3)}${ERASE_DOWN}`);
    expect(kept.writes).toHaveLength(1);
  });
});

describe('PlainFleetView', () => {
  test('a line when an instance\'s reset enters another state or ends, nothing for instances not started, no control sequence', () => {
    // GIVEN
    const out = new FakeTty(0);
    const view = new PlainFleetView(out);
    const waiting: LiveFleetRow = { instanceId: B, availabilityZone: 'eu-west-1b', state: '', step: '' };

    // WHEN
    view.show([{ instanceId: A, availabilityZone: 'eu-west-1a', state: 'PrepareTarget', step: 'Stop the instance', status: 'RUNNING' }, waiting]);
    view.show([{ instanceId: A, availabilityZone: 'eu-west-1a', state: 'PrepareTarget', step: 'Stop the instance', status: 'RUNNING' }, waiting]);
    view.show([{ instanceId: A, availabilityZone: 'eu-west-1a', state: 'PrepareTarget', step: 'Stop the instance', status: 'FAILED' }, waiting]);

    // THEN
    expect(out.writes.join('')).toBe(
      `${A.padEnd(20)} ${'eu-west-1a'.padEnd(12)} PrepareTarget\n` +
      `${A.padEnd(20)} ${'eu-west-1a'.padEnd(12)} FAILED\n`);
  });
});
