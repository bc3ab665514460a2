/**
 * Systems Manager Parameter Store: AWS's public parameters (the latest Windows AMIs), and the
 * parameters the online method writes (/EC2Rescue/Passwords/<instance>, see ssm-commands.ts).
 */
import type { Operations } from './account';
import { ssmError } from './errors';

export interface SimParameter {
  readonly name: string;
  value: string;
  readonly type: 'String' | 'SecureString';
  readonly keyId?: string;
  lastModified: number;
  version: number;
}

export const SSM_PARAMETER_OPERATIONS: Operations = {
  GetParameter(account, input) {
    const publicValue = account.publicParameters.get(input.Name);
    if (publicValue) return { Parameter: { Name: input.Name, Type: 'String', Value: publicValue, Version: 1 } };
    const p = account.parameters.get(input.Name);
    if (!p) throw ssmError('ParameterNotFound', `Parameter ${input.Name} not found.`);
    return { Parameter: { Name: p.name, Type: p.type, Value: p.value, Version: p.version, LastModifiedDate: new Date(p.lastModified) } };
  },

  DescribeParameters(account, input) {
    let list = [...account.parameters.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const filter of input.ParameterFilters ?? []) {
      if (filter.Key === 'Name' && filter.Option === 'BeginsWith') list = list.filter(p => (filter.Values as string[]).some(v => p.name.startsWith(v)));
      else throw ssmError('InvalidFilterOption', `The simulated account supports Name BeginsWith only, not ${filter.Key} ${filter.Option}.`);
    }
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const size = Math.min(input.MaxResults ?? 50, 50);
    const page = list.slice(start, start + size);
    return {
      Parameters: page.map(p => ({ Name: p.name, Type: p.type, KeyId: p.keyId, LastModifiedDate: new Date(p.lastModified), Version: p.version })),
      ...(start + size < list.length ? { NextToken: String(start + size) } : {}),
    };
  },

  DeleteParameter(account, input) {
    if (!account.parameters.delete(input.Name)) throw ssmError('ParameterNotFound', `Parameter ${input.Name} not found.`);
    return {};
  },

  DeleteParameters(account, input) {
    const deleted: string[] = [];
    const invalid: string[] = [];
    for (const name of input.Names as string[]) {
      if (account.parameters.delete(name)) deleted.push(name); else invalid.push(name);
    }
    return { DeletedParameters: deleted, InvalidParameters: invalid };
  },
};
