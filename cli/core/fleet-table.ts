/** The fleet command's table: one row per instance (instance, AZ, step, outcome), and the counts. */

export interface FleetRow {
  readonly instanceId: string;
  readonly availabilityZone: string;
  /** The step its reset is in (while it runs). */
  readonly step: string;
  /** succeeded, planned, refused, failed, not-started (once the fleet ended). */
  readonly outcome: string;
  readonly error?: string;
}

export function fleetRowLine(row: FleetRow): string {
  const last = row.outcome ? `${row.outcome}${row.error ? ` (${row.error})` : ''}` : row.step;
  return `${row.instanceId.padEnd(20)} ${row.availabilityZone.padEnd(12)} ${last}`;
}

export function fleetSummaryLines(rows: readonly FleetRow[], counts: Record<string, number>, dryRun: boolean): string[] {
  const order = dryRun ? ['planned', 'refused', 'not-started'] : ['succeeded', 'failed', 'refused', 'not-started'];
  const total = order.map(k => `${counts[k] ?? 0} ${k}`).join(', ');
  return [
    `${'instance'.padEnd(20)} ${'AZ'.padEnd(12)} outcome`,
    ...rows.map(fleetRowLine),
    `${rows.length} instances: ${total}`,
  ];
}
