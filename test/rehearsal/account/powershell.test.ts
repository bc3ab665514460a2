import { loadPowerShellParser, NativeResult, parsePowerShell, PowerShellHost, PowerShellUnsupported, runPowerShell } from './powershell';

/**
 * The PowerShell interpreter's own rules (Windows PowerShell 5.1), each on a small script: native
 * stderr under $ErrorActionPreference, function scopes, try/catch/finally, loops and exit codes.
 */
describe('simulated account: the PowerShell 5.1 interpreter', () => {
  beforeAll(() => loadPowerShellParser());

  /** A host with one native program, `C:\tool.exe`, that writes `lines` and exits with `exitCode`. */
  const host = (result: NativeResult, calls: string[][] = []): PowerShellHost => ({
    env: { ProgramFiles: 'C:\\Program Files' },
    fileExists: p => p === 'C:\\tool.exe',
    filesUnder: () => [],
    moduleAvailable: () => false,
    sleep: () => undefined,
    runNative: (_, args) => {
      calls.push(args);
      return result;
    },
    runModuleCmdlet: () => undefined,
  });
  const run = (script: string, result: NativeResult = { exitCode: 0, lines: [] }, calls?: string[][]) =>
    runPowerShell(parsePowerShell(script), host(result, calls));
  const warns: NativeResult = { exitCode: 0, lines: [{ stream: 'stdout', text: 'out' }, { stream: 'stderr', text: 'warn' }] };

  test('a native stderr line under Stop is a terminating error, before $LASTEXITCODE is read (5.1)', () => {
    const result = run(`$ErrorActionPreference = 'Stop'
try { $x = & 'C:\\tool.exe' 2>&1; Write-Output "code $LASTEXITCODE" } catch { Write-Output "caught: $($_.Exception.Message)" }`, warns);
    expect(result.stdout).toBe('caught: warn');
  });

  test('under Continue, 2>&1 merges the stderr records into the output; "$_" is their text', () => {
    const result = run(`$ErrorActionPreference = 'Continue'
$lines = & 'C:\\tool.exe' 2>&1 | ForEach-Object { "$_" }
Write-Output ($lines -join '|')
Write-Output "code $LASTEXITCODE"`, { ...warns, exitCode: 3 });
    expect(result.stdout).toBe('out|warn\ncode 3');
  });

  test('an assignment in a function stays in its scope; arguments splat with @', () => {
    const calls: string[][] = [];
    const result = run(`$ErrorActionPreference = 'Stop'
function Invoke-Tool { param([string[]] $Arguments)
  $ErrorActionPreference = 'Continue'
  & 'C:\\tool.exe' @Arguments 2>&1 | Out-Null
}
Invoke-Tool @('/a', '/b')
Write-Output $ErrorActionPreference`, warns, calls);
    expect(result.stdout).toBe('Stop');
    expect(calls).toEqual([['/a', '/b']]);
  });

  test('finally runs after a throw and after break; a terminating error in finally ends it there', () => {
    expect(run('try { throw "boom" } catch { Write-Output "c $($_.Exception.Message)" } finally { Write-Output f }').stdout).toBe('c boom\nf');
    expect(run('while ($true) { try { break } finally { Write-Output f } }\nWrite-Output after').stdout).toBe('f\nafter');
    const result = run(`$ErrorActionPreference = 'Stop'
try { Write-Output t } finally { Write-Error -Message 'in finally'; Write-Output 'never' }`);
    expect(result).toEqual({ exitCode: 1, stdout: 't', stderr: 'in finally' });
  });

  test('Write-Error -ErrorAction Continue does not stop a script under Stop; exit sets the exit code', () => {
    expect(run(`$ErrorActionPreference = 'Stop'
Write-Error -Message 'noted' -ErrorAction Continue
for ($i = 1; $i -le 3 -and -not $false; $i++) { Write-Output $i }
exit 4`)).toEqual({ exitCode: 4, stdout: '1\n2\n3', stderr: 'noted' });
  });

  test('what it does not model fails loudly', () => {
    expect(() => run('$x = 1 + 2')).toThrow(PowerShellUnsupported);
    expect(() => run('Get-Service')).not.toThrow(); // an unknown command is PowerShell's own CommandNotFoundException
    expect(run('Get-Service').exitCode).toBe(1);
    expect(() => parsePowerShell('if ($x { }')).toThrow(/does not parse/);
  });
});
