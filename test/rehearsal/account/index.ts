/**
 * The simulated account, as the rest of the rehearsal uses it (account.ts says how it is built).
 */
export { READ_ONLY, SimulatedAccount } from './account';
export type { ApiCall, AuthorizeHook, CallContext, FaultHook, Operation, Operations, Service, ServiceCall } from './account';
export { ACCESS_DENIED_CODES, awsError, THROTTLING_CODES } from './errors';
export type { InstanceState, SimInstance } from './ec2-instances';
export { sameDevice } from './ec2-volumes';
export type { SimAttachment, SimVolume } from './ec2-volumes';
export type { SimImage, SimSnapshot } from './ec2-images';
export type { SimCommand } from './ssm-commands';
export type { SimParameter } from './ssm-parameters';
export type { SimAsgGroup, SimAsgMember } from './auto-scaling';
export type { SimKey } from './kms';
export type { SimExecution } from './step-functions';
