import type { Agent } from 'undici';
import { AiIntegrationError } from '../errors.js';
import type { Logger } from '../types.js';

/** The events a webhook may ask for (Cog's `webhook_events_filter`); all of them by default. */
export const webhookEvents = ['start', 'output', 'logs', 'completed'] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

/** A prediction's webhook: where to send its state, and on which events. */
export interface WebhookTarget {
  url: string;
  events: ReadonlySet<WebhookEvent>;
}

/**
 * The figures of webhook delivery (docs/how-to/async-and-webhooks.md states them). `completed` is retried on 429, 5xx
 * and connection errors: at most `completedTries` tries, waiting 0.5 s, then twice as long each
 * time (at most 8 s), and never past `completedTotalMs` after the first try. Intermediate events
 * are sent once, at most one per `throttleMs` per prediction (the latest state wins).
 */
export const webhookLimits = {
  completedTries: 6,
  firstRetryDelayMs: 500,
  maxRetryDelayMs: 8000,
  completedTotalMs: 60_000,
  throttleMs: 500,
  /** One call's limit: connecting, then the answer's headers, then its body. */
  timeoutMs: 10_000,
  /** Calls in flight at once, across all predictions. */
  concurrency: 16,
  /** Calls waiting for a free slot; past it the oldest waiting intermediate event is dropped. */
  maxWaiting: 1000,
} as const;

/**
 * Checks a webhook URL (http or https only) and an events filter; 422 naming the field otherwise.
 * Private and loopback addresses are allowed: receivers often live in the same cluster.
 */
export function parseWebhookTarget(url: unknown, filter: unknown, fields: { url: string; filter: string }): WebhookTarget {
  if (typeof url !== 'string' || url.trim() === '')
    throw new AiIntegrationError('AI_ERR_INVALID_INPUT', `${fields.url}: expected an http or https URL`, { field: fields.url });
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new AiIntegrationError('AI_ERR_INVALID_INPUT', `${fields.url}: ${JSON.stringify(url)} is not a URL`, { field: fields.url });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new AiIntegrationError('AI_ERR_INVALID_INPUT', `${fields.url}: only http and https URLs can receive webhooks, got ${parsed.protocol}`, {
      field: fields.url,
    });
  }
  let events: Set<WebhookEvent>;
  if (filter === undefined || filter === null) events = new Set(webhookEvents);
  else {
    const names =
      typeof filter === 'string'
        ? filter
            .split(',')
            .map((name) => name.trim())
            .filter(Boolean)
        : filter;
    if (!Array.isArray(names) || names.some((name) => !webhookEvents.includes(name as WebhookEvent))) {
      throw new AiIntegrationError('AI_ERR_INVALID_INPUT', `${fields.filter}: expected a list of ${webhookEvents.join(', ')}, got ${JSON.stringify(filter)}`, {
        field: fields.filter,
      });
    }
    events = new Set(names as WebhookEvent[]);
  }
  return { url: parsed.href, events };
}

interface Call {
  url: string;
  body: string;
  completed: boolean;
  done: () => void;
}

/**
 * Sends webhooks with undici, apart from the predictions: its own bounded concurrency, bounded
 * waiting list and timeouts, so a receiver that never answers holds up no inference, only its
 * own calls.
 */
export class WebhookSender {
  // undici (over 100 ms to load) comes with the first webhook: most services never send one.
  private client: Promise<{ agent: Agent; request: typeof import('undici').request }> | undefined;
  private active = 0;
  private readonly waiting: Call[] = [];

  constructor(
    private readonly authToken: string | undefined,
    private readonly log: Logger,
  ) {}

  /** The sender of one prediction's events, which keeps them in order and throttles the intermediate ones. */
  forPrediction(target: WebhookTarget, state: () => object): PredictionWebhook {
    return new PredictionWebhook(this, target, state);
  }

  /** Queues one call; resolves once it is sent (or given up), never rejects. */
  send(url: string, body: string, completed: boolean): Promise<void> {
    return new Promise((done) => {
      if (this.waiting.length >= webhookLimits.maxWaiting) {
        const dropped = this.waiting.findIndex((call) => !call.completed);
        if (dropped === -1 && !completed) return done();
        const [call] = this.waiting.splice(dropped === -1 ? 0 : dropped, 1);
        this.log.warn(`webhook: too many calls waiting (${webhookLimits.maxWaiting}); dropped one to ${call!.url}`);
        call!.done();
      }
      this.waiting.push({ url, body, completed, done });
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < webhookLimits.concurrency && this.waiting.length > 0) {
      const call = this.waiting.shift()!;
      this.active++;
      void this.deliver(call).finally(() => {
        this.active--;
        call.done();
        this.pump();
      });
    }
  }

  private async deliver(call: Call): Promise<void> {
    const started = Date.now();
    let delay: number = webhookLimits.firstRetryDelayMs;
    for (let attempt = 1; ; attempt++) {
      const problem = await this.post(call);
      if (problem === undefined) return;
      const retry = call.completed && problem.retry && attempt < webhookLimits.completedTries && Date.now() - started + delay < webhookLimits.completedTotalMs;
      if (!retry) {
        this.log.warn(
          `webhook to ${call.url} failed (${problem.reason})${call.completed ? ` after ${attempt} ${attempt === 1 ? 'try' : 'tries'}; giving up` : ''}`,
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      delay = Math.min(delay * 2, webhookLimits.maxRetryDelayMs);
    }
  }

  // undefined when delivered; otherwise why not, and whether a retry may help.
  private async post(call: Call): Promise<{ reason: string; retry: boolean } | undefined> {
    try {
      const { agent, request } = await (this.client ??= import('undici').then(({ Agent, request }) => ({
        agent: new Agent({ connect: { timeout: webhookLimits.timeoutMs }, headersTimeout: webhookLimits.timeoutMs, bodyTimeout: webhookLimits.timeoutMs }),
        request,
      })));
      const response = await request(call.url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', ...(this.authToken ? { authorization: `Bearer ${this.authToken}` } : {}) },
        body: call.body,
        signal: AbortSignal.timeout(webhookLimits.timeoutMs * 2),
      });
      await response.body.dump();
      if (response.statusCode < 300) return undefined;
      return { reason: `HTTP ${response.statusCode}`, retry: response.statusCode === 429 || response.statusCode >= 500 };
    } catch (error) {
      return { reason: (error as Error).message, retry: true };
    }
  }

  /** Closes idle connections (on shutdown). */
  async close(): Promise<void> {
    const client = await this.client?.catch(() => undefined);
    await client?.agent.close();
  }
}

/** One prediction's webhook: events in order, intermediate ones throttled, `completed` always sent (when asked for). */
export class PredictionWebhook {
  private chain: Promise<void> = Promise.resolve();
  private lastIntermediate = -Infinity;
  private throttled: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(
    private readonly sender: WebhookSender,
    private readonly target: WebhookTarget,
    private readonly state: () => object,
  ) {}

  /** Sends the prediction's state for `event` (its state when sent: a throttled event sends the latest). */
  emit(event: WebhookEvent): void {
    if (this.finished || (!this.target.events.has(event) && event !== 'completed')) return;
    if (event === 'completed') {
      this.finished = true;
      clearTimeout(this.throttled);
      if (this.target.events.has('completed')) this.enqueue(true);
      return;
    }
    if (this.throttled) return; // the pending call will carry the latest state
    const wait = this.lastIntermediate + webhookLimits.throttleMs - Date.now();
    if (wait <= 0) this.sendIntermediate();
    else this.throttled = setTimeout(() => this.sendIntermediate(), wait);
  }

  private sendIntermediate(): void {
    this.throttled = undefined;
    if (this.finished) return;
    this.lastIntermediate = Date.now();
    this.enqueue(false);
  }

  private enqueue(completed: boolean): void {
    // The body is taken when the call's turn comes, so it is the state then.
    this.chain = this.chain.then(() => this.sender.send(this.target.url, JSON.stringify(this.state()), completed));
  }
}
