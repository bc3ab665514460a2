export * from './rescue-password-policy';
export * from './session-manager-encryption';
