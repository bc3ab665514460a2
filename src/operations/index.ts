export * from './reset-notifications';
