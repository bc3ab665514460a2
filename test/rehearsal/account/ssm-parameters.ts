/**
 * Systems Manager Parameter Store: AWS's public parameters (the latest Windows AMIs), and the
 * parameters the online method writes (/EC2Rescue/Passwords/<instance>, see ssm-commands.ts).
 *
 * Documents quoted (Systems Manager API Reference, https://docs.aws.amazon.com/systems-manager/latest/APIReference/):
 * - [GP] GetParameter (API_GetParameter.html). [DP] DescribeParameters (API_DescribeParameters.html), and
 *   ParameterStringFilter (API_ParameterStringFilter.html). [DEL] DeleteParameter (API_DeleteParameter.html).
 *   [DELS] DeleteParameters (API_DeleteParameters.html).
 * - [PUB] Systems Manager User Guide, "Discovering public parameters in Parameter Store"
 *   (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-finding-public-parameters.html).
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

/** [DP] MaxResults: "Valid Range: Minimum value of 1. Maximum value of 50." */
export const DESCRIBE_PARAMETERS_MAX_RESULTS = 50;
/** [DELS] Names: "Array Members: Minimum number of 1 item. Maximum number of 10 items." */
export const DELETE_PARAMETERS_MAX_NAMES = 10;

function parameterNotFound(name: string): Error {
  // [GP], [DEL] ParameterNotFound: the parameter could not be found.
  return ssmError('ParameterNotFound', `Parameter ${name} not found.`);
}

export const SSM_PARAMETER_OPERATIONS: Operations = {
  /**
   * [PUB] AWS publishes public parameters under /aws/service/<owner>, `ami-windows-latest` among the
   * owners (the latest Windows AMI ids); they are read with GetParameter like one's own.
   * assumption: the sim gives a public parameter Version 1 (AWS bumps it with every new AMI; nothing here reads it).
   */
  GetParameter(account, input) {
    const publicValue = account.publicParameters.get(input.Name);
    if (publicValue) return { Parameter: { Name: input.Name, Type: 'String', Value: publicValue, Version: 1 } };
    const p = account.parameters.get(input.Name);
    if (!p) throw parameterNotFound(input.Name);
    return { Parameter: { Name: p.name, Type: p.type, Value: p.value, Version: p.version, LastModifiedDate: new Date(p.lastModified) } };
  },

  /**
   * [DP] Pages of at most MaxResults with a NextToken "to get the next set of results"; a MaxResults out
   * of its range is a ValidationException (the service's answer to a request that breaks the API's
   * constraints, Common Errors). ParameterStringFilter: the Name key with Option BeginsWith (the
   * only filter the workflow uses; the sim refuses others rather than pretend: InvalidFilterOption).
   * assumptions (the reference is silent): without MaxResults a page holds 50; parameters are listed in
   * name order. [DP] also says a page may hold fewer items than MaxResults ("between zero and the value of
   * MaxResults") with a NextToken; the sim's pages are full, and a reader must follow NextToken either way.
   */
  DescribeParameters(account, input) {
    const size = input.MaxResults ?? DESCRIBE_PARAMETERS_MAX_RESULTS;
    if (!Number.isInteger(size) || size < 1 || size > DESCRIBE_PARAMETERS_MAX_RESULTS) {
      throw ssmError('ValidationException', `1 validation error detected: Value '${size}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${DESCRIBE_PARAMETERS_MAX_RESULTS}`);
    }
    let list = [...account.parameters.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const filter of input.ParameterFilters ?? []) {
      if (filter.Key === 'Name' && filter.Option === 'BeginsWith') list = list.filter(p => (filter.Values as string[]).some(v => p.name.startsWith(v)));
      else throw ssmError('InvalidFilterOption', `The simulated account supports Name BeginsWith only, not ${filter.Key} ${filter.Option}.`);
    }
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = list.slice(start, start + size);
    return {
      Parameters: page.map(p => ({ Name: p.name, Type: p.type, KeyId: p.keyId, LastModifiedDate: new Date(p.lastModified), Version: p.version })),
      ...(start + size < list.length ? { NextToken: String(start + size) } : {}),
    };
  },

  DeleteParameter(account, input) {
    if (!account.parameters.delete(input.Name)) throw parameterNotFound(input.Name);
    return {};
  },

  /**
   * [DELS] At most 10 names a call (more is a ValidationException); the response lists the names deleted
   * (DeletedParameters) and "the names of parameters that weren't deleted because the parameters aren't
   * valid" (InvalidParameters): a name that does not exist is reported there, not an error.
   */
  DeleteParameters(account, input) {
    const names = input.Names as string[];
    if (names.length < 1 || names.length > DELETE_PARAMETERS_MAX_NAMES) {
      throw ssmError('ValidationException', `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to ${DELETE_PARAMETERS_MAX_NAMES}`);
    }
    const deleted: string[] = [];
    const invalid: string[] = [];
    for (const name of names) {
      if (account.parameters.delete(name)) deleted.push(name); else invalid.push(name);
    }
    return { DeletedParameters: deleted, InvalidParameters: invalid };
  },
};
