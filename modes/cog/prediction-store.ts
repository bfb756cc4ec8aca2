/** A prediction the store holds: running, or finished with its answer. */
export interface HeldPrediction<T> {
  readonly id: string;
  /**
   * The final answer. It rejects when the prediction never got to run (a full queue, a server
   * that is not ready); the store forgets it then, so that a retry with the same id runs.
   */
  readonly answer: Promise<T>;
  /** Whether the answer is there. */
  readonly done: boolean;
}

export interface PredictionStoreLimits<T> {
  /** Most finished predictions kept. */
  maxFinished: number;
  /** Most bytes of finished answers kept (the newest is kept even when it alone is larger). */
  maxBytes: number;
  /** The size of an answer, in bytes. */
  sizeOf: (answer: T) => number;
}

interface Entry<T> extends HeldPrediction<T> {
  done: boolean;
  keep: boolean;
  bytes: number;
}

/**
 * The predictions the server knows by id, for idempotent `PUT /predictions/{id}` and for cancel:
 * every running one, and the finished ones whose id the client chose, within a bound. Past the
 * bound the oldest finished answers go first; a running prediction is never dropped (the queue
 * bounds how many there are).
 */
export class PredictionStore<T> {
  private readonly entries = new Map<string, Entry<T>>();
  // Insertion order is finishing order: the first key is the oldest answer.
  private readonly finished = new Map<string, Entry<T>>();
  private finishedBytes = 0;

  constructor(private readonly limits: PredictionStoreLimits<T>) {}

  /** The prediction held under `id`, running or finished. */
  get(id: string): HeldPrediction<T> | undefined {
    return this.entries.get(id);
  }

  /**
   * Idempotent creation: the prediction held under `id` (running or finished: the caller gets its
   * answer), or a new one, started at once by calling `run`, and kept once finished. The model
   * runs once per id however many requests name it, whenever they come.
   * @example const { prediction, created } = store.getOrStart(id, () => runPrediction(request));
   */
  getOrStart(id: string, run: () => Promise<T>): { prediction: HeldPrediction<T>; created: boolean } {
    const held = this.entries.get(id);
    if (held) return { prediction: held, created: false };
    return { prediction: this.start(id, run, { keep: true }), created: true };
  }

  /**
   * Starts a prediction and holds it under `id` while it runs, replacing whatever was held under
   * that id (as Cog's POST does). `keep`: hold its answer once finished too (for an id the client
   * chose; a made-up id nobody can ask for again is dropped when done).
   */
  start(id: string, run: () => Promise<T>, options: { keep: boolean }): HeldPrediction<T> {
    this.forget(id);
    const answer = run();
    const entry: Entry<T> = { id, answer, done: false, keep: options.keep, bytes: 0 };
    this.entries.set(id, entry);
    answer.then(
      (value) => this.finish(entry, value),
      () => {
        entry.done = true;
        if (this.entries.get(id) === entry) this.entries.delete(id);
      },
    );
    return entry;
  }

  /** How many predictions run, and how many finished answers are kept. */
  get counts(): { running: number; finished: number; finishedBytes: number } {
    return { running: this.entries.size - this.finished.size, finished: this.finished.size, finishedBytes: this.finishedBytes };
  }

  private finish(entry: Entry<T>, value: T): void {
    entry.done = true;
    if (this.entries.get(entry.id) !== entry) return;
    if (!entry.keep) {
      this.entries.delete(entry.id);
      return;
    }
    entry.bytes = this.limits.sizeOf(value);
    this.finished.set(entry.id, entry);
    this.finishedBytes += entry.bytes;
    while (this.finished.size > this.limits.maxFinished || (this.finishedBytes > this.limits.maxBytes && this.finished.size > 1)) {
      const oldest = this.finished.keys().next().value as string;
      this.forget(oldest);
    }
  }

  private forget(id: string): void {
    const finished = this.finished.get(id);
    if (finished) {
      this.finished.delete(id);
      this.finishedBytes -= finished.bytes;
    }
    this.entries.delete(id);
  }
}
