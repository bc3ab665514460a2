export * from './reset-workflow';
export * from './password-retention';
