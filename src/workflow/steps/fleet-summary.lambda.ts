import { FleetIteration, FleetSummary, summarizeFleet } from '../private/fleet-outcome';
import { FleetPlanResult } from '../private/fleet-request';
import { stepLogger } from '../private/logger';

const logger = stepLogger('fleet-summary');

/**
 * The fleet reset's last step: each instance's outcome from its child execution, and the counts.
 * Makes no AWS call. The waves' results arrive as one list per wave.
 */
export async function handler(event: { fleet: FleetPlanResult; waves: FleetIteration[][] }): Promise<FleetSummary> {
  const summary = summarizeFleet(event.fleet, event.waves.flat());
  logger.info('Fleet reset ended', { counts: summary.counts });
  return summary;
}
