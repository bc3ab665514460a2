/**
 * EC2Rescue on a simulated helper, as the offline script meets it: EC2RescueCmd.exe in
 * %ProgramFiles%\Amazon\EC2Rescue (its exit code, its stdout and stderr lines), the EC2Rescue
 * PowerShell module and its `Invoke-EC2RescueEnablePasswordGeneration`, and the disks of the
 * helper's Windows (a volume attached to the helper is offline until EC2Rescue brings it online).
 * The script itself runs in powershell.ts; this module is the machine it runs on.
 *
 * Sources: the runbook AWSSupport-StartEC2RescueWorkflow (../../../../shared/reference/aws-reset-access-flow.md,
 * step 18): "bring the disk online with `EC2RescueCmd.exe /accepteula /offline:xvdf /rescue:all /check-only` then
 * again with `/no-offline /no-fix-signature` ... set it offline again with the first form"; the package lands in
 * `%ProgramFiles%\Amazon\EC2Rescue` with a PowerShell module `EC2Rescue` (step 16). EC2Rescue for Windows Server
 * user guide, "Use the EC2Rescue for Windows Server command line tool"
 * (https://docs.aws.amazon.com/AWSEC2/latest/WindowsGuide/ec2rw-cli.html): `/offline:<device_id>` works on an
 * offline volume, `/no-offline` "leave[s] the volume online", `/check-only` makes no change.
 * assumption: the exit code is 0 on success and non-zero on failure (a console tool's convention; the guide names
 * no codes), and EC2Rescue may write warnings to stderr on a successful run.
 */
import type { SimulatedAccount } from './account';
import type { SimInstance } from './ec2-instances';
import type { SimVolume } from './ec2-volumes';
import type { CmdletCall, NativeResult, PowerShellHost, Value } from './powershell';

export const EC2RESCUE_DIR = 'C:\\Program Files\\Amazon\\EC2Rescue';
export const EC2RESCUE_CMD = `${EC2RESCUE_DIR}\\EC2RescueCmd.exe`;
const MODULE_MANIFEST = `${EC2RESCUE_DIR}\\Module\\EC2Rescue.psd1`;

/** How EC2Rescue behaves on the helpers of an account (faults a test injects). */
export interface Ec2RescueBehaviour {
  /** Written to stderr by every EC2RescueCmd.exe run (warnings: the exit code does not change). */
  stderrLines?: string[];
  /** EC2RescueCmd.exe brings the disk online with /no-offline, then exits 1 (a failure mid-way: the disk stays online). */
  bringOnlineFailsMidway?: boolean;
  /** How many set-offline runs of an online disk (check-only without /no-offline) still to fail: exit 1, the disk stays online. */
  setOfflineFailures?: number;
  /** Invoke-EC2RescueEnablePasswordGeneration raises this terminating error. */
  enablePasswordGenerationError?: string;
}

/** The Windows disks of helpers: volumes EC2Rescue has left online, by volume id. */
export function isDiskOnline(account: SimulatedAccount, volumeId: string): boolean {
  return account.onlineDisks.has(volumeId);
}

/** The machine a script of AWS-RunPowerShellScript runs on: this helper, with or without EC2Rescue installed. */
export function helperHost(account: SimulatedAccount, helper: SimInstance): PowerShellHost {
  const installed = () => helper.ec2RescueInstalled;
  const behaviour = account.ec2Rescue;
  return {
    env: { ProgramFiles: 'C:\\Program Files', SystemRoot: 'C:\\Windows' },
    fileExists: p => installed() && [EC2RESCUE_DIR, EC2RESCUE_CMD, MODULE_MANIFEST].some(f => f.toLowerCase() === p.toLowerCase()),
    filesUnder: dir => (installed() && MODULE_MANIFEST.toLowerCase().startsWith(`${dir.toLowerCase()}\\`) ? [MODULE_MANIFEST] : []),
    moduleAvailable: name => installed() && name.toLowerCase() === 'ec2rescue',
    sleep: () => undefined,
    runNative: (program, args) => {
      if (program.toLowerCase() !== EC2RESCUE_CMD.toLowerCase()) return { exitCode: 1, lines: [{ stream: 'stderr', text: `${program}: not modelled` }] };
      return ec2RescueCmd(account, helper, args, behaviour);
    },
    runModuleCmdlet: (module, call) => (module === 'ec2rescue' ? ec2RescueModule(account, helper, call, behaviour) : undefined),
  };
}

function diskAt(account: SimulatedAccount, helper: SimInstance, device: string): SimVolume | undefined {
  const volume = account.volumeAt(helper.instanceId, device);
  return volume?.attachment?.state === 'attached' ? volume : undefined;
}

/**
 * EC2RescueCmd.exe /accepteula /offline:<device> /rescue:all /check-only [/no-offline] [/no-fix-signature], the two
 * forms of the runbook's step 18 (header). assumption: other argument lists, or a missing /accepteula, are a usage
 * error (exit 2): the sim models only the forms the runbook and the workflow use.
 */
function ec2RescueCmd(account: SimulatedAccount, helper: SimInstance, args: string[], behaviour: Ec2RescueBehaviour): NativeResult {
  const lower = args.map(a => a.toLowerCase());
  const device = lower.find(a => a.startsWith('/offline:'))?.slice('/offline:'.length);
  const warnings = (behaviour.stderrLines ?? []).map(text => ({ stream: 'stderr' as const, text }));
  const out = (exitCode: number, ...lines: NativeResult['lines']) => ({ exitCode, lines: [...lines, ...warnings] });
  if (!lower.includes('/accepteula')) return out(2, { stream: 'stderr', text: 'You must accept the license terms (/accepteula).' });
  if (!device || !lower.includes('/check-only')) return out(2, { stream: 'stderr', text: `Unsupported arguments: ${args.join(' ')}` });
  const volume = diskAt(account, helper, device);
  if (!volume) return out(1, { stream: 'stderr', text: `ERROR: no offline disk at ${device}.` });
  const report = { stream: 'stdout' as const, text: `EC2Rescue check-only report for the offline Windows on ${device}: no change made.` };
  if (lower.includes('/no-offline')) {
    account.onlineDisks.add(volume.volumeId);
    if (behaviour.bringOnlineFailsMidway) return out(1, report, { stream: 'stderr', text: `ERROR: the checks of ${device} stopped half-way.` });
    return out(0, report, { stream: 'stdout', text: `Disk ${device} left online.` });
  }
  if (account.onlineDisks.has(volume.volumeId) && (behaviour.setOfflineFailures ?? 0) > 0) {
    behaviour.setOfflineFailures!--;
    return out(1, { stream: 'stderr', text: `ERROR: could not set disk ${device} offline.` });
  }
  account.onlineDisks.delete(volume.volumeId);
  return out(0, report, { stream: 'stdout', text: `Disk ${device} is offline.` });
}

/**
 * The EC2Rescue module's cmdlets the offline script uses: `Invoke-EC2RescueEnablePasswordGeneration -BlockDeviceName
 * <device>` (the runbook's offline script, aws-reset-access-flow.md), which makes Windows on that disk generate a new
 * password at its next boot. It runs between the runbook's bring-online and set-offline steps (step 18); assumption:
 * on a disk that is not online it raises a terminating error (the module cannot reach the offline Windows' files).
 */
function ec2RescueModule(account: SimulatedAccount, helper: SimInstance, call: CmdletCall, behaviour: Ec2RescueBehaviour): Value[] | undefined {
  if (call.name.toLowerCase() !== 'invoke-ec2rescueenablepasswordgeneration') return undefined;
  const device = String(call.named.blockdevicename ?? call.positional[0] ?? '');
  const volume = diskAt(account, helper, device);
  if (!volume || !account.onlineDisks.has(volume.volumeId)) throw new Error(`The disk ${device} is not online; bring it online with EC2RescueCmd.exe first.`);
  if (behaviour.enablePasswordGenerationError) throw new Error(behaviour.enablePasswordGenerationError);
  volume.passwordGenerationArmed = true;
  volume.generation++;
  account.moment(`offline-fix:${volume.volumeId}`);
  return [`Password generation enabled on the Windows installation of ${device}.`];
}
