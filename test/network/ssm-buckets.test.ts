import { ssmBucketNames } from '../../src/network/ssm-buckets';

describe('ssmBucketNames', () => {
  test('lists the seven AWS-owned buckets SSM needs in a standard Region', () => {
    expect(ssmBucketNames('eu-west-1')).toEqual([
      'aws-windows-downloads-eu-west-1',
      'amazon-ssm-eu-west-1',
      'amazon-ssm-packages-eu-west-1',
      'eu-west-1-birdwatcher-prod',
      'aws-ssm-document-attachments-eu-west-1',
      'aws-ssm-eu-west-1',
      'patch-baseline-snapshot-eu-west-1',
    ]);
  });

  test.each(['af-south-1', 'eu-south-1'])('uses the aws-ssm-distributor-file bucket for Distributor packages in %s', region => {
    const names = ssmBucketNames(region);
    expect(names).toContain(`aws-ssm-distributor-file-${region}`);
    expect(names).not.toContain(`${region}-birdwatcher-prod`);
    expect(names).toHaveLength(7);
  });
});
