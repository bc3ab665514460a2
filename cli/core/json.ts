/**
 * The JSON object in `text` (an execution's input or output, a task's result), or undefined when
 * `text` is absent, not JSON, or not an object: what the CLI reads from Step Functions is shown,
 * never trusted to parse.
 */
export function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
