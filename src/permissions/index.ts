export * from './rescue-password-policy';
export * from './session-manager-encryption';
export * from './reset-tag-guard';
