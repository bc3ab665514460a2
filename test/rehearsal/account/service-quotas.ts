/**
 * Service Quotas, the one call a fleet reset makes (issue 14): GetServiceQuota, which returns the
 * quota's applied value (Service Quotas API Reference, GetServiceQuota: "Retrieves the applied quota
 * value for the specified account-level or resource-level quota"). A quota the account was not given
 * is `NoSuchResourceException` (its error list: "The specified resource does not exist").
 */
import type { Operations, SimulatedAccount } from './account';
import { awsError } from './errors';

const QUOTAS = new WeakMap<SimulatedAccount, Map<string, number>>();

/** Sets a quota's applied value (`<service code>/<quota code>`, e.g. `ec2/L-1216C47A`). */
export function setServiceQuota(account: SimulatedAccount, serviceCode: string, quotaCode: string, value: number): void {
  const quotas = QUOTAS.get(account) ?? new Map<string, number>();
  quotas.set(`${serviceCode}/${quotaCode}`, value);
  QUOTAS.set(account, quotas);
}

/** A quota's applied value, if the account has it. */
export function serviceQuotaOf(account: SimulatedAccount, serviceCode: string, quotaCode: string): number | undefined {
  return QUOTAS.get(account)?.get(`${serviceCode}/${quotaCode}`);
}

export const SERVICE_QUOTAS_OPERATIONS: Operations = {
  GetServiceQuota(account, input) {
    const value = serviceQuotaOf(account, input.ServiceCode, input.QuotaCode);
    if (value === undefined) throw awsError('servicequotas', 'NoSuchResourceException', 'The specified resource does not exist.');
    return {
      Quota: {
        ServiceCode: input.ServiceCode,
        QuotaCode: input.QuotaCode,
        QuotaArn: `arn:aws:servicequotas:${account.region}:${account.accountId}:${input.ServiceCode}/${input.QuotaCode}`,
        Value: value,
        Unit: 'None',
        Adjustable: true,
      },
    };
  },
};
