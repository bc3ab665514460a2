/**
 * Props that cannot work, found at synth: `name` says what is wrong (`TargetTagValueEmpty`), the
 * message says which prop to change and how. Tests and tools match the name; people read the message.
 */
export class InvalidPropsError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}
