import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SampleStack } from './sample-stack';

const app = new App();
// Environment-agnostic on purpose: `cdk synth` needs no credentials and makes no lookups.
// `cdk deploy` deploys to the account and Region of the caller's credentials.
new SampleStack(app, 'Ec2ResetAccessSample', {
  description: 'cdk-ec2-reset-access sample: regain access to EC2 Windows instances',
  sessionManagerEncryption: app.node.tryGetContext('sessionManagerEncryption') === 'true',
  customerManagedKey: app.node.tryGetContext('customerManagedKey') === 'true',
  allowedVolumeKeyArns: String(app.node.tryGetContext('allowedVolumeKeyArns') ?? '').split(',').filter(arn => arn !== ''),
});
// Synthesis fails on any AwsSolutions finding that is not acknowledged with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
