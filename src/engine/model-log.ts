import type { InferOptions } from '../types.js';

/**
 * A line the inference function logged (`context.log`): to its prediction's logs when the mode
 * follows them (`onLog`), else to stderr beside the runtime's own log, so that nothing a model
 * says is lost in the one-shot modes.
 */
export function logModelLine(message: string, onLog: InferOptions['onLog']): void {
  const text = String(message);
  const line = text.endsWith('\n') ? text : `${text}\n`;
  if (onLog) onLog(line);
  else process.stderr.write(line);
}
