export * from './permissions';
export * from './workflow';
