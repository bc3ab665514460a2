export * from './rescue-password-policy';
