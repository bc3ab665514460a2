import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LiveFleetRow, liveOutcome, liveTableLines, stepLabel } from '../../../cli/core/fleet-table';

const id = (n: number) => `i-0123456789abcd${String(n).padStart(3, '0')}`;
const row = (n: number, status?: string, step = ''): LiveFleetRow => ({
  instanceId: id(n), availabilityZone: `eu-west-1${'abc'[n % 3]}`, state: step, step, status,
});
const WIDE = { columns: 120, rows: 50 };

describe('the live fleet table', () => {
  test('one aligned row per instance (instance, AZ, step, outcome), then the counts and the time since the fleet started', () => {
    // GIVEN
    const rows = [row(0, 'RUNNING', 'Stop the instance'), row(1, 'SUCCEEDED', 'Wait for Windows to generate the password'), row(2)];

    // WHEN
    const lines = liveTableLines(rows, WIDE, 125_000);

    // THEN
    expect(lines).toEqual([
      'instance             AZ          step                                       outcome',
      'i-0123456789abcd000  eu-west-1a  Stop the instance                          running',
      'i-0123456789abcd001  eu-west-1b  Wait for Windows to generate the password  succeeded',
      'i-0123456789abcd002  eu-west-1c  -                                          waiting',
      '3 instances: 1 running, 1 succeeded, 1 waiting · 2m 05s',
    ]);
  });

  test('says the fleet is being planned while no instance is known yet', () => {
    expect(liveTableLines([], WIDE, 4_000)).toEqual(['Planning the fleet… 4s']);
  });

  test('no line reaches the terminal\'s last column, so none wraps and a redraw goes up exactly as many lines', () => {
    // WHEN
    const lines = liveTableLines([row(0, 'RUNNING', 'Enable password generation (EC2Rescue, offline)')], { columns: 40 }, 0);

    // THEN
    expect(lines.every(line => line.length <= 39)).toBe(true);
    expect(lines[1]).toBe('i-0123456789abcd000  eu-west-1a  Enabl…');
  });

  test('on a screen too short for every row it keeps the running and failed rows, in plan order, and counts the rest', () => {
    // GIVEN: 10 instances, a screen of 8 lines (7 for the table: header, 4 rows, "more", counts).
    const rows = [
      row(0, 'SUCCEEDED'), row(1), row(2, 'RUNNING', 'Stop the instance'), row(3, 'SUCCEEDED'), row(4, 'FAILED', 'Put the instance back after the failure'),
      row(5), row(6, 'RUNNING', 'Attach the root volume to the helper'), row(7), row(8, 'TIMED_OUT'), row(9, 'SUCCEEDED'),
    ];

    // WHEN
    const lines = liveTableLines(rows, { columns: 120, rows: 8 }, 60_000);

    // THEN
    expect(lines).toHaveLength(7);
    expect(lines.slice(1, 5).map(l => l.slice(0, 19))).toEqual([id(2), id(4), id(6), id(8)]);
    expect(lines[5]).toBe('… 6 more: 3 succeeded, 3 waiting');
    expect(lines[6]).toBe('10 instances: 2 running, 3 succeeded, 1 failed, 1 timed out, 3 waiting · 1m 00s');
  });

  test('a screen of a few lines still shows the header, one row and the counts', () => {
    const lines = liveTableLines([row(0, 'RUNNING', 'Stop the instance'), row(1), row(2)], { columns: 120, rows: 2 }, 0);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(id(0));
    expect(lines[2]).toBe('… 2 more: 2 waiting');
  });

  test('outcomes from the reset execution\'s status', () => {
    expect([undefined, 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'].map(liveOutcome))
      .toEqual(['waiting', 'running', 'succeeded', 'failed', 'timed out', 'stopped', 'pending_redrive']);
  });

  test('the step column shows the step a state belongs to, and keeps the last one over states that are no step', () => {
    expect(stepLabel('CheckHelperReadyWait', '')).toBe('Wait for the helper in Systems Manager');
    expect(stepLabel('PreflightPassed?', 'Preflight checks')).toBe('Preflight checks');
    expect(stepLabel('starting', '')).toBe('starting');
  });
});

test('the README\'s frame of the table is what the table draws', () => {
  // GIVEN
  const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const frame = /```text\n(instance {13}AZ[^`]*)```/.exec(readme)?.[1].trimEnd().split('\n');
  const rows: LiveFleetRow[] = [
    ['i-0a1b2c3d4e5f60718', 'us-east-1a', 'Wait for the helper in Systems Manager', 'RUNNING'],
    ['i-0a1b2c3d4e5f60719', 'us-east-1b', 'Enable password generation (EC2Rescue, offline)', 'RUNNING'],
    ['i-0a1b2c3d4e5f6071a', 'us-east-1c', 'Put the instance back after the failure', 'FAILED'],
    ['i-0a1b2c3d4e5f6071b', 'us-east-1a', 'Wait for Windows to generate the password', 'SUCCEEDED'],
    ['i-0a1b2c3d4e5f6071c', 'us-east-1b', '', undefined],
  ].map(([instanceId, availabilityZone, step, status]) => ({ instanceId: instanceId!, availabilityZone: availabilityZone!, state: '', step: step!, status }));

  // THEN
  expect(frame).toEqual(liveTableLines(rows, { columns: 100, rows: 40 }, 400_000));
});
