# cdk-ec2-reset-access: offline password fix, run on the helper instance through
# AWS-RunPowerShellScript. The target's root volume is attached to this helper as xvdf.
# EC2Rescue brings that disk online, enables password generation on the Windows
# installation it holds (EC2Launch/EC2Config generate a new Administrator password at the
# next boot, encrypted with the instance's key pair), and sets the disk offline again,
# whatever happens, so the volume can be detached cleanly.
# This script handles no password and prints none.

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$Device = 'xvdf'
$InstallDir = Join-Path $env:ProgramFiles 'Amazon\EC2Rescue'
$RescueCmd = Join-Path $InstallDir 'EC2RescueCmd.exe'

function Invoke-RescueCmd {
    param([string[]] $Arguments)
    $output = & $RescueCmd @Arguments 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0) {
        throw "EC2RescueCmd.exe $($Arguments -join ' ') exited with code $LASTEXITCODE. $output"
    }
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
    if ($diskTouched) {
        try {
            Invoke-RescueCmd $SetOffline
            Write-Output "Disk $Device is offline again."
        } catch {
            $exitCode = 1
            Write-Error -Message "Could not set disk $Device offline again: $($_.Exception.Message)" -ErrorAction Continue
        }
    }
}
exit $exitCode
