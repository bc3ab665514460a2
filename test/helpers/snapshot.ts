import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** Asset hashes change with every handler edit and toolchain bump; they say nothing about behaviour. */
const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * The stack's template with asset hashes replaced by a fixed marker, ready for
 * `toMatchSnapshot()`. Snapshots are a safety net for unintended template changes;
 * behaviour is asserted with `Template` matchers next to them.
 */
export function maskedTemplate(stack: Stack): unknown {
  const json = JSON.stringify(Template.fromStack(stack).toJSON());
  return JSON.parse(json.replace(ASSET_HASH, '[ASSET-HASH]'));
}
