export * from './reset-workflow';
export * from './password-retention';
export * from './backup-image-retention';
export * from './fleet-reset';
