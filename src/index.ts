export * from './permissions';
export * from './network';
export * from './workflow';
