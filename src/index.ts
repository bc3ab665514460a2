export * from './permissions';
export * from './network';
export * from './workflow';
export * from './operations';
export * from './reset-access';
