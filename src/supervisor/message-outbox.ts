/** What became of a message given to an Outbox. */
export type Delivery = { ok: true } | { ok: false; refused: Error } | { ok: false; lost: Error };

/** Several messages in one: what an Outbox writes when more than one waits. */
export interface ManyMessages<M> {
  type: 'many';
  messages: M[];
}

/**
 * Messages for a child process's IPC channel (either side), written together once per turn of the
 * event loop: everything sent while the loop handled one round of I/O (several requests that
 * arrived together, several results) goes as one `many` message, one serialization and one write,
 * instead of one each. The receiver unpacks it (`unpackMessages`). A message the channel cannot
 * carry (structured clone refuses it, or overflows the stack) is `refused` on its own, without
 * failing the others; a write that fails (the other side went away) has them all `lost`.
 */
export class Outbox<M> {
  private waiting: { message: M; delivered: (delivery: Delivery) => void }[] = [];

  constructor(private readonly write: (message: M | ManyMessages<M>, callback: (error: Error | null) => void) => void) {}

  send(message: M, delivered: (delivery: Delivery) => void = () => {}): void {
    if (this.waiting.push({ message, delivered }) === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    if (batch.length > 1) {
      try {
        this.write({ type: 'many', messages: batch.map((entry) => entry.message) }, (error) => {
          for (const entry of batch) entry.delivered(error ? { ok: false, lost: error } : { ok: true });
        });
        return;
      } catch {
        // One of them cannot be carried: each goes alone below, so only that one is refused.
      }
    }
    for (const entry of batch) {
      try {
        this.write(entry.message, (error) => entry.delivered(error ? { ok: false, lost: error } : { ok: true }));
      } catch (error) {
        entry.delivered({ ok: false, refused: error as Error });
      }
    }
  }
}

/** The messages of what arrived: a `many` message's, or the message itself. */
export function unpackMessages<M>(message: M | ManyMessages<M>): M[] {
  return (message as ManyMessages<M> | undefined)?.type === 'many' ? (message as ManyMessages<M>).messages : [message as M];
}
