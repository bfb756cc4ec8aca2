// A streamed prediction, read from fetch's body (EventSource cannot POST a form): each 'output'
// event is a chunk; 'done' carries the whole prediction.
import type { PredictionAnswer } from './prediction.js';

/** Reads the events until the stream ends; returns the 'done' event's prediction, or null without one. */
export async function readEvents(response: Response, onOutput: (chunk: unknown) => void): Promise<PredictionAnswer | null> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let done: PredictionAnswer | null = null;
  for (;;) {
    const step = await reader.read();
    if (step.done) return done;
    buffer += step.value;
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let payload = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) payload += line.slice(6);
      }
      if (payload === '') continue;
      const value: unknown = JSON.parse(payload);
      if (event === 'output') onOutput(value);
      else if (event === 'done') done = value as PredictionAnswer;
    }
  }
}
