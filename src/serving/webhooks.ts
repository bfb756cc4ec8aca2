import { randomUUID } from 'node:crypto';
import type { Agent } from 'undici';
import { AiIntegrationError } from '../errors.js';
import { listedHost, type WebhookSettings } from '../settings-parts/webhooks.js';
import { plural } from '../plural.js';
import type { Logger } from '../types.js';
import { retryableStatus, retryDelay, retryPolicy } from './retry-policy.js';
import { signWebhook } from './webhook-signature.js';

/** The events a webhook may ask for (Cog's `webhook_events_filter`); all of them by default. */
export const webhookEvents = ['start', 'output', 'logs', 'completed'] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

/** A prediction's webhook: where to send its state, and on which events. */
export interface WebhookTarget {
  url: string;
  events: ReadonlySet<WebhookEvent>;
}

/**
 * The fixed figures of webhook delivery (docs/how-to/async-and-webhooks.md states them; the
 * bounds an operator tunes are settings, WEBHOOK_*). `completed` is retried as `retryPolicy`
 * says (429, 5xx and connection errors; at most `completedTries` tries, backing off from 0.5 s to
 * 8 s, never past `completedTotalMs`). Intermediate events are sent once, at most one per
 * `throttleMs` per prediction (the latest state wins).
 */
export const webhookLimits = {
  completedTries: retryPolicy.tries,
  firstRetryDelayMs: retryPolicy.firstDelayMs,
  maxRetryDelayMs: retryPolicy.maxDelayMs,
  completedTotalMs: retryPolicy.totalMs,
  throttleMs: 500,
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
  /** Its `webhook-id`: one per event, the same on every retry. */
  id: string;
  body: string;
  completed: boolean;
  tries: number;
  firstTryMs: number | undefined;
  done: () => void;
  /** The share its slot was counted in while it is in flight (its receiver's standing then). */
  lane: Standing | undefined;
}

/**
 * What a receiver's last finished call said of it: `answering` gave an HTTP answer (any status: it
 * holds a slot only as long as it takes to answer); `failing` gave none (no connection, or nothing
 * within WEBHOOK_TIMEOUT_MS), so each of its calls holds a slot for the whole timeout. A receiver
 * with no standing is new: not heard from yet.
 */
type Standing = 'answering' | 'failing' | 'new';

/** Standings remembered, the most recent kept: a receiver that comes back after a pause is known. */
const rememberedStandings = 1000;

// One receiver (an origin): its calls in flight, waiting, and waiting to be retried, and the
// `completed` calls owed to it by the predictions admitted with its webhook.
interface Receiver {
  active: number;
  waiting: Call[];
  retrying: number;
  owed: number;
  dropping: boolean;
}

const originOf = (url: string): string => new URL(url).origin;

/**
 * Sends webhooks with undici, apart from the predictions, and fairly between receivers (origins:
 * scheme, host and port): WEBHOOK_CONCURRENCY calls at once in all, turns taken round the
 * receivers, and a retry's back-off waits without a slot. How many calls a receiver may have in
 * flight depends on its standing, so that many receivers that never answer cannot hold every slot
 * between them: one that answered its last call gets WEBHOOK_RECEIVER_CONCURRENCY, and a quarter of
 * all slots is kept for such receivers; one not heard from yet, or whose last call got no answer,
 * gets one call at a time, those whose last call got no answer a quarter of all slots between them.
 * So a receiver that answers gets its `completed` within its budget however many are dead, and a
 * new one as long as fewer new or dead receivers than three quarters of the slots are called at
 * once (a dead one is new only until its first call times out). A `completed` call is never
 * dropped: a prediction with a webhook is admitted only while its receiver, and all receivers,
 * owe fewer `completed` calls than WEBHOOK_RECEIVER_MAX_PENDING and WEBHOOK_MAX_PENDING (429
 * otherwise); an intermediate event past those bounds is dropped, as a later call carries the
 * newer state.
 */
export class WebhookSender {
  // undici (over 100 ms to load) comes with the first webhook: most services never send one.
  private client: Promise<{ agent: Agent; request: typeof import('undici').request }> | undefined;
  // Map order is the order of turns: a receiver that takes a turn goes to the back.
  private readonly receivers = new Map<string, Receiver>();
  private active = 0;
  private waiting = 0;
  private owed = 0;
  // Calls in flight by the standing their receiver had when they took their slot.
  private readonly activeIn: Record<Standing, number> = { answering: 0, failing: 0, new: 0 };
  private readonly standings = new Map<string, 'answering' | 'failing'>();
  // Waiting for every `completed` call owed to end (the drain on SIGTERM).
  private deliveredWaiters: (() => void)[] = [];
  // Retries waiting out their back-off, given up at once when the sender closes.
  private readonly backoffs = new Map<NodeJS.Timeout, Call>();
  private closed = false;

  constructor(
    private readonly settings: WebhookSettings,
    private readonly log: Logger,
  ) {
    if (settings.authToken !== undefined && settings.authHosts.length === 0) {
      log.warn(
        'webhook: WEBHOOK_AUTH_TOKEN is sent to no receiver, since WEBHOOK_AUTH_HOSTS lists none: callers name webhook URLs, so the token would reach any host they chose; list your receivers in WEBHOOK_AUTH_HOSTS, or sign the calls with WEBHOOK_SECRET',
      );
    }
  }

  /**
   * Throws AI_ERR_WEBHOOKS_BEHIND (429) when a new prediction with this webhook would pass a bound
   * of the `completed` calls owed, so that it is refused before it is held or run.
   */
  admit(target: WebhookTarget): void {
    if (!target.events.has('completed')) return;
    const origin = originOf(target.url);
    const owedThere = this.receivers.get(origin)?.owed ?? 0;
    const { maxPending, receiverMaxPending } = this.settings;
    if (owedThere >= receiverMaxPending) {
      throw new AiIntegrationError(
        'AI_ERR_WEBHOOKS_BEHIND',
        `${receiverMaxPending} completed webhooks to ${origin} are not delivered yet (WEBHOOK_RECEIVER_MAX_PENDING); retry later`,
      );
    }
    if (this.owed >= maxPending)
      throw new AiIntegrationError('AI_ERR_WEBHOOKS_BEHIND', `${maxPending} completed webhooks are not delivered yet (WEBHOOK_MAX_PENDING); retry later`);
  }

  /**
   * The sender of one admitted prediction's events (`admit` first), which keeps them in order,
   * throttles the intermediate ones and counts its `completed` call as owed until it is delivered.
   */
  forPrediction(target: WebhookTarget, state: () => object): PredictionWebhook {
    if (target.events.has('completed')) {
      this.receiver(originOf(target.url)).owed++;
      this.owed++;
    }
    return new PredictionWebhook(this, target, state);
  }

  /** Queues one call; resolves once it is sent (or given up, or dropped), never rejects. */
  send(url: string, body: string, completed: boolean): Promise<void> {
    return new Promise((done) => {
      if (this.closed) return done();
      const origin = originOf(url);
      const receiver = this.receiver(origin);
      if (!completed && (receiver.waiting.length >= this.settings.receiverMaxPending || this.waiting >= this.settings.maxPending)) {
        if (!receiver.dropping)
          this.log.warn(`webhook: ${receiver.waiting.length} calls to ${origin} are waiting; its intermediate events are dropped until they drain`);
        receiver.dropping = true;
        this.forgetIfIdle(origin, receiver);
        return done();
      }
      const id = `msg_${randomUUID().replaceAll('-', '')}`;
      receiver.waiting.push({ url, id, body, completed, tries: 0, firstTryMs: undefined, done, lane: undefined });
      this.waiting++;
      this.pump();
    });
  }

  private receiver(origin: string): Receiver {
    let receiver = this.receivers.get(origin);
    if (!receiver) {
      receiver = { active: 0, waiting: [], retrying: 0, owed: 0, dropping: false };
      this.receivers.set(origin, receiver);
    }
    return receiver;
  }

  private forgetIfIdle(origin: string, receiver: Receiver): void {
    if (receiver.active === 0 && receiver.waiting.length === 0 && receiver.retrying === 0 && receiver.owed === 0) this.receivers.delete(origin);
  }

  // Gives the free slots to the receivers that have calls waiting and room of their own, in turn.
  private pump(): void {
    while (!this.closed && this.active < this.settings.concurrency) {
      let next: [string, Receiver, Standing] | undefined;
      for (const [origin, receiver] of this.receivers) {
        const standing = this.standings.get(origin) ?? 'new';
        if (receiver.waiting.length > 0 && this.hasRoom(receiver, standing)) {
          next = [origin, receiver, standing];
          break;
        }
      }
      if (!next) return;
      const [origin, receiver, standing] = next;
      this.receivers.delete(origin);
      this.receivers.set(origin, receiver);
      const call = receiver.waiting.shift()!;
      this.waiting--;
      if (receiver.waiting.length === 0) receiver.dropping = false;
      receiver.active++;
      this.active++;
      call.lane = standing;
      this.activeIn[standing]++;
      void this.attempt(origin, receiver, call);
    }
  }

  // Whether a receiver of this standing may take one more slot now (one is free).
  private hasRoom(receiver: Receiver, standing: Standing): boolean {
    const { concurrency, receiverConcurrency } = this.settings;
    if (standing === 'answering') return receiver.active < receiverConcurrency;
    // Not known to answer: one call at a time, and all such receivers together leave a quarter of
    // the slots to those that answer; those known not to answer take a quarter at most.
    const quarter = Math.floor(concurrency / 4);
    if (receiver.active > 0 || this.activeIn.new + this.activeIn.failing >= concurrency - quarter) return false;
    return standing === 'new' || this.activeIn.failing < Math.max(1, quarter);
  }

  private judge(origin: string, standing: 'answering' | 'failing'): void {
    this.standings.delete(origin);
    this.standings.set(origin, standing);
    if (this.standings.size > rememberedStandings) this.standings.delete(this.standings.keys().next().value!);
  }

  private async attempt(origin: string, receiver: Receiver, call: Call): Promise<void> {
    call.firstTryMs ??= Date.now();
    call.tries++;
    const problem = await this.post(call);
    receiver.active--;
    this.active--;
    this.activeIn[call.lane!]--;
    call.lane = undefined;
    this.judge(origin, problem === undefined || problem.answered ? 'answering' : 'failing');
    const delay = problem !== undefined && call.completed && problem.retry && !this.closed ? retryDelay(call.tries, call.firstTryMs) : undefined;
    if (delay !== undefined) {
      receiver.retrying++;
      const timer = setTimeout(() => {
        this.backoffs.delete(timer);
        receiver.retrying--;
        receiver.waiting.unshift(call);
        this.waiting++;
        this.pump();
      }, delay).unref();
      this.backoffs.set(timer, call);
    } else {
      // Once closed, what is not delivered was counted in the one line close() said.
      if (problem !== undefined && !this.closed) {
        this.log.warn(
          `webhook to ${call.url} failed (${problem.reason})${call.completed ? ` after ${call.tries} ${call.tries === 1 ? 'try' : 'tries'}; giving up` : ''}`,
        );
      }
      if (call.completed) {
        receiver.owed--;
        this.owed--;
        if (this.owed === 0) for (const resolve of this.deliveredWaiters.splice(0)) resolve();
      }
      call.done();
      this.forgetIfIdle(origin, receiver);
    }
    this.pump();
  }

  // undefined when delivered; otherwise why not, whether a retry may help, and whether the receiver answered at all.
  private async post(call: Call): Promise<{ reason: string; retry: boolean; answered: boolean } | undefined> {
    const { timeoutMs, secret, authToken, authHosts } = this.settings;
    try {
      const { agent, request } = await (this.client ??= import('undici').then(({ Agent, request }) => ({
        agent: new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }),
        request,
      })));
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (secret) {
        // The attempt's time: a retry is signed anew, under the same webhook-id.
        const timestamp = Math.floor(Date.now() / 1000);
        headers['webhook-id'] = call.id;
        headers['webhook-timestamp'] = String(timestamp);
        headers['webhook-signature'] = signWebhook(secret, call.id, timestamp, call.body);
      }
      // A caller names the URL: the operator's token goes only to the hosts the operator listed.
      if (authToken !== undefined && listedHost(new URL(call.url), authHosts)) headers.authorization = `Bearer ${authToken}`;
      const response = await request(call.url, { method: 'POST', dispatcher: agent, headers, body: call.body, signal: AbortSignal.timeout(timeoutMs) });
      await response.body.dump();
      if (response.statusCode < 300) return undefined;
      return { reason: `HTTP ${response.statusCode}`, retry: retryableStatus(response.statusCode), answered: true };
    } catch (error) {
      return { reason: (error as Error).message, retry: true, answered: false };
    }
  }

  /**
   * Resolves once every `completed` call owed has been delivered or given up: the drain on
   * SIGTERM waits for it (within SHUTDOWN_TIMEOUT_MS), so that a prediction finished in the drain
   * still reaches its receiver before the process ends.
   */
  whenDelivered(): Promise<void> {
    return this.owed === 0 ? Promise.resolve() : new Promise((resolve) => this.deliveredWaiters.push(resolve));
  }

  /**
   * Ends delivery once the drain is over: what is still owed is given up (said in one line), calls
   * in flight are aborted and the connections closed, so that no socket to a receiver outlives
   * the service (an embedded service, a test's process).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owed > 0) this.log.warn(`shutdown: ${plural(this.owed, 'completed webhook')} not delivered before the end of the drain (SHUTDOWN_TIMEOUT_MS)`);
    for (const [timer, call] of this.backoffs) {
      clearTimeout(timer);
      call.done();
    }
    this.backoffs.clear();
    for (const receiver of this.receivers.values()) for (const call of receiver.waiting.splice(0)) call.done();
    this.receivers.clear();
    const client = await this.client?.catch(() => undefined);
    await client?.agent.destroy();
  }
}

/** One prediction's webhook: events in order, intermediate ones throttled, `completed` always sent (when asked for). */
export class PredictionWebhook {
  private chain: Promise<void> = Promise.resolve();
  private lastIntermediate = -Infinity;
  private throttled: NodeJS.Timeout | undefined;
  private finished = false;
  private intermediateQueued = false;

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
    // One intermediate call waits at most: the body is taken when the call's turn comes, so it
    // carries the state then, and a later event has nothing to add.
    if (!completed) {
      if (this.intermediateQueued) return;
      this.intermediateQueued = true;
    }
    this.chain = this.chain.then(() => {
      if (!completed) this.intermediateQueued = false;
      return this.sender.send(this.target.url, JSON.stringify(this.state()), completed);
    });
  }
}
