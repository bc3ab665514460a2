/** The device name the root volume gets on the helper (what EC2Rescue's offline mode is told). */
export const HELPER_DEVICE = 'xvdf';

/**
 * Device names as compared by the workflow: without `/dev/`. EC2 reports a device the
 * way it was given (`/dev/sda1`, `xvdf`), so `/dev/xvdf` and `xvdf` are the same device.
 */
export function normalizeDevice(device: string | undefined): string {
  return (device ?? '').replace(/^\/dev\//, '');
}

export function sameDevice(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && normalizeDevice(a) === normalizeDevice(b);
}
