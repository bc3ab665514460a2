import { windowsVersionOf } from './image-names';

/**
 * Picks the SSM public parameter of the helper's AMI: the first, in the configured order
 * of preference, whose Windows Server version differs from the target's. Two volumes
 * from the same image share a disk signature, which Windows resolves by changing one
 * of them; a different version avoids that collision. When the target's version is
 * unknown, or every parameter has the same version as the target, the first is used.
 */
export function chooseHelperImageParameter(parameters: readonly string[], targetWindowsVersion?: string): string {
  if (parameters.length === 0) {
    throw new Error('The workflow has no helper image parameters: give the ResetWorkflow construct at least one.');
  }
  if (targetWindowsVersion) {
    const different = parameters.find(p => {
      const version = windowsVersionOf(p);
      return version !== undefined && version !== targetWindowsVersion;
    });
    if (different) return different;
  }
  return parameters[0];
}
