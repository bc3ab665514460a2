/// <reference path="../../ps1.d.ts" />
// The bundler (esbuild, loader `.ps1: text`) inlines the script into the handler as a string.
// Jest loads it the same way through test/setup/text-transform.js.
import script from '../steps/offline-password-fix.ps1';

/**
 * The offline password fix run on the helper with AWS-RunPowerShellScript. Contract the restore
 * relies on (restore-plan.ts, offHelper): the script exits 0 only once the disk is offline again,
 * so after its Success the helper may be stopped without its OS shutdown
 * (test/workflow/steps/offline-password-fix.test.ts holds it to that).
 */
export const OFFLINE_PASSWORD_FIX_SCRIPT: string = script;
