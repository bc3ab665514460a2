import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteParametersCommand, paginateDescribeParameters, SSMClient } from '@aws-sdk/client-ssm';
import {
  chunks, expiredPasswordParameters, ListedParameter, PASSWORD_PARAMETER_NAME_PREFIX, RETENTION_SECONDS_ENV, retentionSecondsFrom,
} from './expired-passwords';

const logger = new Logger({ serviceName: 'password-retention' });
const ssm = new SSMClient({});

/** What one run did: names only, never values. */
export interface RetentionResult {
  readonly examined: number;
  readonly deleted: string[];
  /** Expired, but gone by the time of the delete (deleted meanwhile by someone else). */
  readonly alreadyGone: string[];
}

/**
 * Deletes `/EC2Rescue/Passwords/i-*` parameters older than the retention, as AWS advises once
 * the password has been retrieved. Runs on a schedule; each run is independent, so a parameter
 * that fails to delete is tried again on the next run.
 */
export async function handler(_event?: unknown, now: Date = new Date()): Promise<RetentionResult> {
  const retentionSeconds = retentionSecondsFrom(process.env[RETENTION_SECONDS_ENV]);

  const listed: ListedParameter[] = [];
  const pages = paginateDescribeParameters({ client: ssm, pageSize: 50 }, {
    ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: [PASSWORD_PARAMETER_NAME_PREFIX] }],
  });
  for await (const page of pages) {
    for (const p of page.Parameters ?? []) listed.push({ name: p.Name, lastModifiedDate: p.LastModifiedDate });
  }

  const expired = expiredPasswordParameters(listed, now, retentionSeconds);
  const deleted: string[] = [];
  const alreadyGone: string[] = [];
  for (const names of chunks(expired, 10)) {
    const response = await ssm.send(new DeleteParametersCommand({ Names: names }));
    deleted.push(...(response.DeletedParameters ?? []));
    alreadyGone.push(...(response.InvalidParameters ?? []));
  }

  logger.info('Password parameter retention applied', { retentionSeconds, examined: listed.length, deleted, alreadyGone });
  return { examined: listed.length, deleted, alreadyGone };
}
