import { readFileSync } from 'fs';
import { join } from 'path';
import { SimInstance, SimulatedAccount, SimVolume } from '../../rehearsal/account';
import { Ec2RescueBehaviour, helperHost, isDiskOnline } from '../../rehearsal/account/ec2rescue';
import { newSimulatedAccount } from '../../rehearsal/account/fixture';
import { loadPowerShellParser, parsePowerShell, PowerShellRun, runPowerShell } from '../../rehearsal/account/powershell';

const SCRIPT = readFileSync(join(__dirname, '../../../src/workflow/steps/offline-password-fix.ps1'), 'utf8');

/** The script without its comment lines. */
const CODE = SCRIPT.split('\n').filter(l => !l.trim().startsWith('#')).join('\n');

/**
 * offline-password-fix.ps1 is run, not read: its syntax tree (tree-sitter's PowerShell grammar) is
 * interpreted with Windows PowerShell 5.1's rules (test/rehearsal/account/powershell.ts) on a simulated
 * helper whose EC2RescueCmd.exe, EC2Rescue module and disk are modelled (ec2rescue.ts). What the tests
 * assert is what the script does to the disk and what Run Command reports, in each way EC2Rescue may behave.
 */
describe('offline-password-fix.ps1', () => {
  beforeAll(() => loadPowerShellParser());

  let account: SimulatedAccount;
  let helper: SimInstance;
  let root: SimVolume;
  beforeEach(() => {
    account = newSimulatedAccount();
    helper = account.addInstance({ isHelper: true, state: 'running' });
    helper.ec2RescueInstalled = true;
    root = account.addVolume();
    account.call('ec2', 'AttachVolume', { VolumeId: root.volumeId, InstanceId: helper.instanceId, Device: 'xvdf' });
    account.advance(5);
  });

  const run = (behaviour: Ec2RescueBehaviour = {}): PowerShellRun => {
    account.ec2Rescue = behaviour;
    return runPowerShell(parsePowerShell(SCRIPT), helperHost(account, helper));
  };

  test('parses as PowerShell without an error', () => {
    expect(() => parsePowerShell(SCRIPT)).not.toThrow();
  });

  test('enables password generation on xvdf and leaves the disk offline; exit code 0', () => {
    const result = run();
    expect(result.exitCode).toBe(0);
    expect(root).toMatchObject({ passwordGenerationArmed: true, generation: 2 });
    expect(isDiskOnline(account, root.volumeId)).toBe(false);
    expect(result.stdout).toMatch(/Disk xvdf is online\.[\s\S]*Password generation is enabled on the Windows installation of xvdf\.[\s\S]*Disk xvdf is offline again\./);
  });

  test('EC2RescueCmd.exe writing to stderr does not fail it: judged by its exit code, the stderr kept as text', () => {
    const result = run({ stderrLines: ['WARNING: the disk signature of xvdf collides with the system disk.'] });
    expect(result.exitCode).toBe(0);
    expect(root.passwordGenerationArmed).toBe(true);
    expect(isDiskOnline(account, root.volumeId)).toBe(false);
    expect(result.stdout).toContain('WARNING: the disk signature of xvdf collides');
  });

  test.each<[string, Ec2RescueBehaviour, RegExp]>([
    ['EC2RescueCmd.exe fails half-way through bringing the disk online', { bringOnlineFailsMidway: true }, /no-fix-signature exited with code 1\. [\s\S]*stopped half-way/],
    ['the same, while also writing warnings to stderr', { bringOnlineFailsMidway: true, stderrLines: ['WARNING: slow disk'] }, /no-fix-signature exited with code 1\. [\s\S]*stopped half-way/],
    ['Invoke-EC2RescueEnablePasswordGeneration fails', { enablePasswordGenerationError: 'Cannot load the offline registry hive.' }, /Cannot load the offline registry hive\./],
    ['setting the disk offline fails twice, then succeeds', { enablePasswordGenerationError: 'Cannot load the offline registry hive.', setOfflineFailures: 2 }, /Cannot load the offline registry hive\./],
  ])('%s: exit code 1, the reason on stderr, the disk offline afterwards (the finally block)', (_, behaviour, reason) => {
    const result = run(behaviour);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^Offline password fix failed: /m);
    expect(result.stderr).toMatch(reason);
    expect(isDiskOnline(account, root.volumeId)).toBe(false);
    expect(root.passwordGenerationArmed).toBe(false);
  });

  test('setting the disk offline after the fix fails twice: retried, the fix reported done', () => {
    const result = run({ setOfflineFailures: 2 });
    expect(result.exitCode).toBe(0);
    expect(isDiskOnline(account, root.volumeId)).toBe(false);
    expect(result.stdout).toMatch(/Setting disk xvdf offline failed \(attempt 2\)/);
  });

  test('a disk that cannot be set offline at all: exit code 1 and the operator is told not to detach it from a running helper', () => {
    const result = run({ setOfflineFailures: 99 });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/Could not set disk xvdf offline again; detach the volume only after stopping the helper\./);
    expect(isDiskOnline(account, root.volumeId)).toBe(true);
  });

  test('without EC2Rescue: exit code 1 with what to install, the disk untouched', () => {
    helper.ec2RescueInstalled = false;
    const result = run();
    expect(result).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/EC2Rescue is not installed .*install the AWSSupport-EC2Rescue package/) });
    expect(root.passwordGenerationArmed).toBe(false);
  });

  test('without the volume at xvdf: retried for about 2 minutes (12 attempts), then exit code 1', () => {
    account.call('ec2', 'DetachVolume', { VolumeId: root.volumeId });
    account.advance(5);
    const result = run();
    expect(result.exitCode).toBe(1);
    expect(result.stdout.match(/not ready yet/g)).toHaveLength(11);
    expect(result.stderr).toMatch(/no offline disk at xvdf/);
  });

  test('EC2RescueCmd.exe is called with the runbook\'s arguments: check-only, then with /no-offline /no-fix-signature', () => {
    expect(CODE).toContain("$SetOffline = @('/accepteula', \"/offline:$Device\", '/rescue:all', '/check-only')");
    expect(CODE).toContain("$BringOnline = @('/accepteula', \"/offline:$Device\", '/rescue:all', '/check-only', '/no-offline', '/no-fix-signature')");
  });

  test('holds no secret and touches no password', () => {
    expect(CODE).not.toMatch(/net user|Set-LocalUser|ConvertTo-SecureString|PasswordData|AKIA[0-9A-Z]{16}|aws_secret/i);
    expect(CODE).not.toMatch(/-Password\b/i);
  });

  test('is plain ASCII, so Run Command passes it through unchanged', () => {
    expect(/^[\x09\x0a\x0d\x20-\x7e]*$/.test(SCRIPT)).toBe(true);
  });
});
