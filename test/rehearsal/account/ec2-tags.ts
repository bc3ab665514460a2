/**
 * EC2's tags in the shapes of its API: the `Tags` list a Describe call returns, and the tags a
 * create call asks for in its `TagSpecifications` (by resource type).
 */

/** A resource's tags as EC2's Describe calls return them. */
export function tagList(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** The tags a create call's `TagSpecifications` give resources of `resourceType` (`instance`, `volume`, `image`, `snapshot`). */
export function requestedTags(input: { TagSpecifications?: any[] }, resourceType: string): Record<string, string> {
  return Object.fromEntries((input.TagSpecifications ?? [])
    .filter(s => s.ResourceType === resourceType).flatMap(s => s.Tags ?? []).map((t: any) => [t.Key, t.Value]));
}
