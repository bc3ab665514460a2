/**
 * EC2's tags in the shapes of its API: the `Tags` list a Describe call returns, the tags a
 * create call asks for in its `TagSpecifications` (by resource type), CreateTags and DeleteTags.
 *
 * Documents quoted (EC2 API Reference, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/):
 * - [TS] TagSpecification (API_TagSpecification.html). [CT] CreateTags (API_CreateTags.html).
 *   [DT] DeleteTags (API_DeleteTags.html). [ERR] "Error codes for the Amazon EC2 API" (errors-overview.html).
 */
import type { Operations, SimulatedAccount } from './account';
import { ec2Error } from './errors';

/** A resource's tags as EC2's Describe calls return them. */
export function tagList(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * The tags a create call's `TagSpecifications` give resources of `resourceType` (`instance`, `volume`, `image`,
 * `snapshot`, `vpc-endpoint`): [TS] "The tags to apply to a resource when the resource is being created", each
 * specification for the ResourceType it names (RunInstances tags the instance and its volumes apart).
 */
export function requestedTags(input: { TagSpecifications?: any[] }, resourceType: string): Record<string, string> {
  return Object.fromEntries((input.TagSpecifications ?? [])
    .filter(s => s.ResourceType === resourceType).flatMap(s => s.Tags ?? []).map((t: any) => [t.Key, t.Value]));
}

/**
 * The tags of the EC2 resource an id names (instance, volume, image, snapshot). assumption: an id of none of
 * them is InvalidID ([ERR]: "The specified ID for the resource you are trying to tag is not valid"); EC2
 * answers some unknown ids with the resource's own NotFound code, which no caller here tells apart.
 */
function taggable(account: SimulatedAccount, id: string): Record<string, string> {
  const tags = account.instances.get(id)?.tags ?? account.volumes.get(id)?.tags ?? account.images.get(id)?.tags ?? account.snapshots.get(id)?.tags;
  if (!tags) throw ec2Error('InvalidID', `The ID '${id}' is not valid`);
  return tags;
}

export const EC2_TAG_OPERATIONS: Operations = {
  /** [CT] "Adds or overwrites only the specified tags for the specified Amazon EC2 resource or resources." A tag without a value gets '' ([CT] Tags: the value may be empty). */
  CreateTags(account, input) {
    const targets = (input.Resources as string[]).map(id => taggable(account, id));
    for (const tags of targets) for (const t of input.Tags ?? []) tags[t.Key] = t.Value ?? '';
    return {};
  },

  /**
   * [DT] a tag given by its key only is deleted "regardless of its value";
   * with a value, only when the value matches.
   */
  DeleteTags(account, input) {
    const targets = (input.Resources as string[]).map(id => taggable(account, id));
    for (const tags of targets) {
      for (const t of input.Tags ?? []) {
        if (t.Value === undefined || tags[t.Key] === t.Value) delete tags[t.Key];
      }
    }
    return {};
  },
};
