export * from './rescue-endpoints';
export * from './rescue-vpc';
