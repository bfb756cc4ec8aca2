/**
 * A cancel that costs nothing until it is needed. Node's AbortSignal costs microseconds per
 * request: making one (about 2 µs) and adding and removing an 'abort' listener (3 to 4 µs), at
 * several points on every request's way (the client's disconnect, the queue, the engine, the
 * worker), which was 10 to 30% of the HTTP throughput on a fast model. A Cancellation keeps plain
 * listeners, and makes the AbortSignal the model sees only when the model asks for it.
 */
export class Cancellation {
  #canceled = false;
  #listeners: (() => void)[] | undefined;
  #controller: AbortController | undefined;
  /** The signal it follows, when it was made from one (`Cancellation.of`). */
  #external: AbortSignal | undefined;

  /** Whether it was canceled. */
  get aborted(): boolean {
    return this.#canceled;
  }

  /** An AbortSignal that aborts with it, made on first use (the inference function's `signal`). */
  get signal(): AbortSignal {
    if (this.#external) return this.#external;
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#canceled) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** Cancels: every listener is called once, in the order they were added, and the signal aborts. */
  cancel(): void {
    if (this.#canceled) return;
    this.#canceled = true;
    this.#controller?.abort();
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }

  /** Calls `listener` when it is canceled (never if it already was); returns what removes it. */
  onCancel(listener: () => void): () => void {
    if (this.#canceled) return noop;
    (this.#listeners ??= []).push(listener);
    return () => {
      const listeners = this.#listeners;
      const index = listeners ? listeners.indexOf(listener) : -1;
      if (index !== -1) listeners!.splice(index, 1);
    };
  }

  /**
   * The Cancellation of what a caller passed: itself, or one that follows an AbortSignal (its one
   * listener is the only AbortSignal cost), or undefined for nothing.
   */
  static of(source: AbortSignal | Cancellation | undefined): Cancellation | undefined {
    if (source === undefined || source instanceof Cancellation) return source;
    const cancellation = new Cancellation();
    cancellation.#external = source;
    if (source.aborted) cancellation.cancel();
    else source.addEventListener('abort', () => cancellation.cancel(), { once: true });
    return cancellation;
  }
}

const noop = () => {};
