import type { InferOptions } from './types.js';

/**
 * The `log` an inference function gets in its context: a line for its prediction's logs when
 * the mode follows them (`onLog`), else a line on stderr beside the runtime's own log, so that
 * nothing a model says is lost in the one-shot modes.
 */
export function modelLog(onLog: InferOptions['onLog']): (message: string) => void {
  return (message) => {
    const text = String(message);
    const line = text.endsWith('\n') ? text : `${text}\n`;
    if (onLog) onLog(line);
    else process.stderr.write(line);
  };
}
