import { HOURS_PER_MONTH, PRICES_US_EAST_1, SCENARIOS, idleChargesOf, idleMonthlyUsd, synthesizeScenario } from '../../build-tools/idle-cost';

describe('idle-cost', () => {
  test('prices the default RescueVpc at 3 interface endpoints × 1 ENI × 730 h', () => {
    // GIVEN
    const template = synthesizeScenario(SCENARIOS[0]);

    // WHEN
    const charges = idleChargesOf(template);

    // THEN
    expect(charges[0]).toEqual({
      resource: 'interface endpoint ENIs',
      quantity: 3 * HOURS_PER_MONTH,
      unit: 'ENI-hours',
      monthlyUsd: 3 * HOURS_PER_MONTH * PRICES_US_EAST_1.interfaceEndpointEniHour,
    });
    expect(idleMonthlyUsd(template)).toBeCloseTo(21.9, 2);
  });

  test('EVERY_AZ in a six-zone Region costs six times as much', () => {
    const everyAz = SCENARIOS.find(s => s.name.includes('6-AZ Region, EVERY_AZ'))!;
    expect(idleMonthlyUsd(synthesizeScenario(everyAz))).toBeCloseTo(6 * 21.9, 2);
  });

  test('an existing VPC with its own endpoints adds nothing billed while idle', () => {
    const byo = SCENARIOS.find(s => s.name.includes('createEndpoints: false'))!;
    expect(idleMonthlyUsd(synthesizeScenario(byo))).toBe(0);
  });
});
