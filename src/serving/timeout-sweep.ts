/**
 * One interval timer that checks running inferences against INFERENCE_TIMEOUT_MS while any run,
 * instead of a timer per inference: arming and clearing one per request showed up in the HTTP
 * profile. A timeout fires within a tenth of its length, and at most 50 ms late. The admission
 * queue sweeps with it when it keeps the timeout, the supervisor when it does (it alone knows
 * when a request starts running in a worker).
 */
export class TimeoutSweep {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: () => number,
    private readonly sweep: () => void,
  ) {}

  /** Sweeps from now on, if it does not already. */
  start(): void {
    this.timer ??= setInterval(this.sweep, Math.max(1, Math.min(50, this.timeoutMs() / 10))).unref();
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
