/**
 * The one error type leaf raises for bad input (files, configs, data lines, numeric faults).
 * Its message is a single line naming the file, tensor, field or line at fault; the CLI prints
 * just that line (no stack trace) and exits with status 1.
 */
export class LeafError extends Error {
  override readonly name = 'LeafError';
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
  }
}
