# cdk-ec2-reset-access: offline password fix, run on the helper instance through
# AWS-RunPowerShellScript. The target's root volume is attached to this helper as xvdf.
# EC2Rescue brings that disk online, enables password generation on the Windows
# installation it holds (EC2Launch/EC2Config generate a new Administrator password at the
# next boot, encrypted with the instance's key pair), and sets the disk offline again,
# whatever happens, so the volume can be detached cleanly.
# This script handles no password and prints none.
#
# It runs in Windows PowerShell 5.1. There, every line a native command writes to stderr
# becomes an error record (NativeCommandError), and under $ErrorActionPreference 'Stop' the
# first one is a terminating error: raised before $LASTEXITCODE is read, and, in a finally
# block, ending that block before the disk is offline. (Only PowerShell 7.2 and later stopped
# applying the preference to redirected native output: about_Preference_Variables.) So
# EC2RescueCmd.exe is judged by its exit code alone, its stderr kept as text, and every call
# in the finally block is guarded so that no error can cut it short.

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$Device = 'xvdf'
$InstallDir = Join-Path $env:ProgramFiles 'Amazon\EC2Rescue'
$RescueCmd = Join-Path $InstallDir 'EC2RescueCmd.exe'

# Runs EC2RescueCmd.exe; fails only on a non-zero exit code. The preference is 'Continue' in
# this function's own scope (the script keeps 'Stop'), and each stderr record becomes its text.
function Invoke-RescueCmd {
    param([string[]] $Arguments)
    $ErrorActionPreference = 'Continue'
    $lines = & $RescueCmd @Arguments 2>&1 | ForEach-Object { "$_" }
    $code = $LASTEXITCODE
    $text = $lines -join "`n"
    if ($code -ne 0) {
        throw "EC2RescueCmd.exe $($Arguments -join ' ') exited with code $code. $text"
    }
    $text
}

# The first form (check-only) is also what sets the disk offline again afterwards.
$SetOffline = @('/accepteula', "/offline:$Device", '/rescue:all', '/check-only')
$BringOnline = @('/accepteula', "/offline:$Device", '/rescue:all', '/check-only', '/no-offline', '/no-fix-signature')

$exitCode = 0
$diskTouched = $false
try {
    if (-not (Test-Path -LiteralPath $RescueCmd)) {
        throw "EC2Rescue is not installed in $InstallDir; install the AWSSupport-EC2Rescue package (AWS-ConfigureAWSPackage) first."
    }

    # The volume may take a few seconds to show up after the attachment: retry for up to 2 minutes.
    $diskTouched = $true
    $attempt = 0
    while ($true) {
        try {
            Invoke-RescueCmd $SetOffline
            break
        } catch {
            $attempt++
            if ($attempt -ge 12) { throw }
            Write-Output "Disk $Device not ready yet (attempt $attempt); waiting 10 seconds."
            Start-Sleep -Seconds 10
        }
    }
    Invoke-RescueCmd $BringOnline
    Write-Output "Disk $Device is online."

    if (Get-Module -ListAvailable -Name EC2Rescue) {
        Import-Module EC2Rescue
    } else {
        $manifest = Get-ChildItem -LiteralPath $InstallDir -Recurse -Filter 'EC2Rescue.psd1' | Select-Object -First 1
        if (-not $manifest) { throw "The EC2Rescue PowerShell module was not found under $InstallDir." }
        Import-Module $manifest.FullName
    }

    Invoke-EC2RescueEnablePasswordGeneration -BlockDeviceName $Device | Out-String | Write-Output
    Write-Output "Password generation is enabled on the Windows installation of $Device."
} catch {
    $exitCode = 1
    Write-Error -Message "Offline password fix failed: $($_.Exception.Message)" -ErrorAction Continue
} finally {
    # Nothing in this block may end it before the disk is offline: each attempt is guarded.
    if ($diskTouched) {
        $offline = $false
        for ($attempt = 1; $attempt -le 3 -and -not $offline; $attempt++) {
            try {
                Invoke-RescueCmd $SetOffline
                $offline = $true
                Write-Output "Disk $Device is offline again."
            } catch {
                Write-Output "Setting disk $Device offline failed (attempt $attempt): $($_.Exception.Message)"
            }
        }
        if (-not $offline) {
            $exitCode = 1
            Write-Error -Message "Could not set disk $Device offline again; detach the volume only after stopping the helper." -ErrorAction Continue
        }
    }
}
exit $exitCode
