/**
 * EC2's Describe* filters, as DescribeInstances, DescribeVolumes, DescribeImages, DescribeSnapshots,
 * DescribeInstanceTypeOfferings and DescribeVpcEndpoints apply them.
 *
 * Documents quoted:
 * - [FILTER] EC2 API Reference, Filter (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Filter.html).
 * - [LIST] Amazon EC2 User Guide, "List and filter your resources", section "List and filter using the CLI
 *   and API" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Filtering.html#Filtering_Resources_CLI).
 */
import { ec2Error } from './errors';

/**
 * Whether a resource passes one filter. A request's filters are applied one after the other by the
 * callers: [FILTER] "If you specify multiple filters, the filters are joined with an AND".
 * - [FILTER] "If you specify multiple values for a filter, the values are joined with an OR": the
 *   resource passes when any value matches any of its values for that name.
 * - `tag:<key>` filters on the value of the tag `<key>` (each Describe call's reference lists it, e.g.
 *   DescribeInstances: "tag:<key> - The key/value combination of a tag assigned to the resource");
 *   a resource without that tag does not pass.
 * - A name the call does not support is an error. The references list the supported names per call
 *   and do not say what an unknown one does; EC2 answers InvalidParameterValue "The filter '<name>' is
 *   invalid" (the error as the CLI and boto3 report it, e.g. aws/aws-cli#7225, boto/boto3#1299).
 *   assumption: every call here answers the same way (the sim models only the names the workflow uses).
 */
export function matchesFilter(filter: { Name: string; Values: string[] }, fields: Record<string, string[]>, tags: Record<string, string>): boolean {
  if (filter.Name.startsWith('tag:')) {
    const value = tags[filter.Name.slice(4)];
    return value !== undefined && filter.Values.some(v => wildcard(v, value));
  }
  const values = fields[filter.Name];
  if (!values) throw ec2Error('InvalidParameterValue', `The filter '${filter.Name}' is invalid`);
  return values.some(value => filter.Values.some(v => wildcard(v, value)));
}

/**
 * One filter value against one resource value. [LIST], filtering considerations: "An asterisk (*)
 * matches zero or more characters, and a question mark (?) matches zero or one character"; "Filter
 * values are case sensitive"; a backslash before a wildcard character (or a backslash) makes it literal:
 * `\*amazon\?\\` searches for the literal string `*amazon?\`. ([FILTER] says the same of case.)
 */
export function wildcard(pattern: string, value: string): boolean {
  let regex = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length && '*?\\'.includes(pattern[i + 1])) {
      regex += escapeRegex(pattern[++i]);
    } else if (c === '*') {
      regex += '.*';
    } else if (c === '?') {
      regex += '.?';
    } else {
      regex += escapeRegex(c);
    }
  }
  return new RegExp(`^${regex}$`, 's').test(value);
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
