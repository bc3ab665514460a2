export * from './permissions';
export * from './network';
export * from './workflow';
export * from './reset-access';
