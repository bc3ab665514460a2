/**
 * The AWS-owned S3 buckets that SSM Agent and Systems Manager documents read from,
 * per Region. A helper instance with no internet path reaches them through an S3
 * gateway endpoint, which serves only buckets of its own Region.
 *
 * Source: Systems Manager user guide, "Reference: Amazon S3 buckets for patching
 * operations and SSM Agent" / "Create VPC endpoints" (see
 * ../../../shared/reference/aws-reset-access-flow.md, "A helper with no internet").
 *
 * Pure data, no CDK: the construct turns it into ARNs (and, when the stack's Region
 * is only known at deploy time, into a CloudFormation condition).
 */

/** One AWS-owned bucket family, named after the Region it serves. */
export interface SsmBucket {
  /** What SSM uses the bucket for (documentation and test messages only). */
  readonly purpose: string;
  /** The bucket name in a Region. */
  readonly nameIn: (region: string) => string;
  /** Regions where the bucket has another name. */
  readonly exceptionRegions?: readonly string[];
  /** The bucket name in one of `exceptionRegions`. */
  readonly exceptionNameIn?: (region: string) => string;
}

/** Every bucket the helper needs, in the order the Systems Manager user guide lists them. */
export const SSM_BUCKETS: readonly SsmBucket[] = [
  { purpose: 'Windows tools and drivers that SSM documents download', nameIn: r => `aws-windows-downloads-${r}` },
  { purpose: 'SSM Agent installers and updates', nameIn: r => `amazon-ssm-${r}` },
  { purpose: 'SSM Agent update manifests and packages', nameIn: r => `amazon-ssm-packages-${r}` },
  {
    purpose: 'Distributor packages such as AWSSupport-EC2Rescue (AWS-ConfigureAWSPackage)',
    nameIn: r => `${r}-birdwatcher-prod`,
    exceptionRegions: ['af-south-1', 'eu-south-1'],
    exceptionNameIn: r => `aws-ssm-distributor-file-${r}`,
  },
  { purpose: 'Attachments of AWS-owned SSM documents', nameIn: r => `aws-ssm-document-attachments-${r}` },
  { purpose: 'Scripts and modules that AWS-owned SSM documents run', nameIn: r => `aws-ssm-${r}` },
  { purpose: 'Patch baseline snapshots (AWS-RunPatchBaseline)', nameIn: r => `patch-baseline-snapshot-${r}` },
];

/** The name of one bucket family in a concrete Region. */
export function ssmBucketNameIn(bucket: SsmBucket, region: string): string {
  const exception = bucket.exceptionNameIn && (bucket.exceptionRegions ?? []).includes(region);
  return exception ? bucket.exceptionNameIn!(region) : bucket.nameIn(region);
}

/** The names of all the buckets SSM needs in a concrete Region (e.g. `eu-west-1`). */
export function ssmBucketNames(region: string): string[] {
  return SSM_BUCKETS.map(bucket => ssmBucketNameIn(bucket, region));
}
