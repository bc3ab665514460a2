/**
 * EC2's Describe* filters, as DescribeInstances, DescribeVolumes and DescribeImages apply them.
 */
import { ec2Error } from './errors';

/** EC2's Describe* filter semantics: any of the values; `tag:<key>` filters on tags; unknown names are an error. */
export function matchesFilter(filter: { Name: string; Values: string[] }, fields: Record<string, string[]>, tags: Record<string, string>): boolean {
  if (filter.Name.startsWith('tag:')) {
    const value = tags[filter.Name.slice(4)];
    return value !== undefined && filter.Values.some(v => wildcard(v, value));
  }
  const values = fields[filter.Name];
  if (!values) throw ec2Error('InvalidParameterValue', `The filter '${filter.Name}' is invalid`);
  return values.some(value => filter.Values.some(v => wildcard(v, value)));
}

function wildcard(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return regex.test(value);
}
