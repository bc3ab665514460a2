/// <reference path="../../ps1.d.ts" />
// The bundler (esbuild, loader `.ps1: text`) inlines the script into the handler as a string.
// Jest cannot load a .ps1 as a module: tests mock this module with the file's text.
import script from '../steps/offline-password-fix.ps1';

/** The offline password fix run on the helper with AWS-RunPowerShellScript. */
export const OFFLINE_PASSWORD_FIX_SCRIPT: string = script;
