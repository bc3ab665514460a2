import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The structured logger of one step; the step name is the service name, so a log
 * search by `service` finds one step across executions. Never log a password, password
 * data, or the output of a command that could hold one.
 */
export function stepLogger(step: string): Logger {
  return new Logger({ serviceName: step });
}
