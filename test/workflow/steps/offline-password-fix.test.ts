import { readFileSync } from 'fs';
import { join } from 'path';

const SCRIPT = readFileSync(join(__dirname, '../../../src/workflow/steps/offline-password-fix.ps1'), 'utf8');

/** The script without its comment lines. */
const CODE = SCRIPT.split('\n').filter(l => !l.trim().startsWith('#')).join('\n');

describe('offline-password-fix.ps1', () => {
  test('stops on the first error', () => {
    expect(CODE).toMatch(/^\$ErrorActionPreference = 'Stop'$/m);
  });

  test('uses EC2Rescue from its install directory', () => {
    expect(CODE).toContain("Join-Path $env:ProgramFiles 'Amazon\\EC2Rescue'");
    expect(CODE).toContain("Join-Path $InstallDir 'EC2RescueCmd.exe'");
  });

  test('brings xvdf online with EC2RescueCmd: the check-only form, then with /no-offline /no-fix-signature', () => {
    expect(CODE).toContain("$Device = 'xvdf'");
    expect(CODE).toContain("$SetOffline = @('/accepteula', \"/offline:$Device\", '/rescue:all', '/check-only')");
    expect(CODE).toContain("$BringOnline = @('/accepteula', \"/offline:$Device\", '/rescue:all', '/check-only', '/no-offline', '/no-fix-signature')");
    expect(CODE.indexOf('Invoke-RescueCmd $SetOffline')).toBeLessThan(CODE.indexOf('Invoke-RescueCmd $BringOnline'));
  });

  test('imports the EC2Rescue module and enables password generation on xvdf', () => {
    expect(CODE).toContain('Import-Module EC2Rescue');
    expect(CODE).toContain('Invoke-EC2RescueEnablePasswordGeneration -BlockDeviceName $Device');
    expect(CODE.indexOf('Invoke-RescueCmd $BringOnline')).toBeLessThan(CODE.indexOf('Invoke-EC2RescueEnablePasswordGeneration'));
  });

  test('sets the disk offline again in a finally block, whatever happened', () => {
    const finallyBlock = CODE.slice(CODE.indexOf('} finally {'));
    expect(finallyBlock).toContain('Invoke-RescueCmd $SetOffline');
    expect(CODE.indexOf('Invoke-EC2RescueEnablePasswordGeneration')).toBeLessThan(CODE.indexOf('} finally {'));
  });

  test('exits 1 with a clear message on error, after the finally block', () => {
    expect(CODE).toMatch(/catch \{\s+\$exitCode = 1\s+Write-Error -Message "Offline password fix failed: /);
    expect(CODE.trim().endsWith('exit $exitCode')).toBe(true);
    expect(CODE).toMatch(/if \(\$LASTEXITCODE -ne 0\) \{\s+throw "EC2RescueCmd.exe/);
  });

  test('holds no secret and touches no password', () => {
    expect(CODE).not.toMatch(/net user|Set-LocalUser|ConvertTo-SecureString|PasswordData|AKIA[0-9A-Z]{16}|aws_secret/i);
    expect(CODE).not.toMatch(/-Password\b/i);
  });

  test('is plain ASCII, so Run Command passes it through unchanged', () => {
    expect(/^[\x09\x0a\x0d\x20-\x7e]*$/.test(SCRIPT)).toBe(true);
  });
});
