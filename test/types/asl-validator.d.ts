/** asl-validator 4 ships no types; its CommonJS export is the validator function itself. */
declare module 'asl-validator' {
  interface ValidationResult {
    readonly isValid: boolean;
    readonly errors: Array<{ readonly 'Error code'?: string; readonly Message?: string; readonly [key: string]: unknown }>;
  }
  function validator(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): ValidationResult;
  export = validator;
}
