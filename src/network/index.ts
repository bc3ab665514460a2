export * from './rescue-vpc';
