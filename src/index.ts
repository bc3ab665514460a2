export * from './permissions';
export * from './network';
