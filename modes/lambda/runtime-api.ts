import { Client } from 'undici';

/** The runtime API's version prefix; every path below it. */
const api = '/2018-06-01/runtime';

/** The runtime API did what it never should: the environment is broken, and the function ends. */
export class RuntimeApiError extends Error {
  override name = 'RuntimeApiError';
}

/** One invocation as `GET .../invocation/next` hands it out. */
export interface Invocation {
  /** Lambda-Runtime-Aws-Request-Id. */
  requestId: string;
  /** Lambda-Runtime-Deadline-Ms: when the function times out, in Unix milliseconds; undefined when absent or malformed. */
  deadlineMs: number | undefined;
  /** Lambda-Runtime-Invoked-Function-Arn. */
  functionArn: string | undefined;
  /** Lambda-Runtime-Trace-Id: the X-Ray tracing header. */
  traceId: string | undefined;
  /** The event's bytes (JSON), or undefined when they were more than the limit. */
  event: Buffer | undefined;
  /** The event's size, counted up to the limit. */
  eventBytes: number;
}

/** What Lambda expects in an error report: the body of `.../error` and `init/error`. */
export interface ErrorReport {
  errorMessage: string;
  errorType: string;
  stackTrace: string[];
}

/** How the runtime API answered a POST; `accepted` only for its 202. */
export interface PostOutcome {
  accepted: boolean;
  status: number;
  /** The API's own error, `{errorMessage, errorType}`, when it refused. */
  refusal: string;
}

/**
 * A client of the Lambda runtime API (AWS_LAMBDA_RUNTIME_API) over one keep-alive connection, as
 * Lambda's own runtimes use it: the next invocation, its response or error, an initialization error.
 */
export class RuntimeApi {
  private readonly client: Client;

  constructor(readonly address: string) {
    this.client = new Client(`http://${address}`, { pipelining: 1 });
  }

  /**
   * Waits for the next invocation. No timeout: Lambda freezes the whole environment until there
   * is an event, which may be minutes later, and the answer comes whenever it does.
   * `maxEventBytes` bounds the event read; past it the rest is dropped and `event` is undefined.
   */
  async next(maxEventBytes: number, signal?: AbortSignal): Promise<Invocation> {
    const response = await this.client.request({ method: 'GET', path: `${api}/invocation/next`, headersTimeout: 0, bodyTimeout: 0, signal });
    if (response.statusCode !== 200) {
      const text = await response.body.text().catch(() => '');
      throw new RuntimeApiError(`the Lambda runtime API answered ${response.statusCode} to GET ${api}/invocation/next: ${text.slice(0, 500)}`);
    }
    const header = (name: string) => {
      const value = response.headers[name];
      return typeof value === 'string' && value !== '' ? value : undefined;
    };
    const requestId = header('lambda-runtime-aws-request-id');
    if (requestId === undefined) {
      await response.body.dump();
      throw new RuntimeApiError('the Lambda runtime API handed out an invocation without a Lambda-Runtime-Aws-Request-Id header');
    }
    const deadline = Number(header('lambda-runtime-deadline-ms'));
    const chunks: Buffer[] = [];
    let eventBytes = 0;
    let tooLarge = false;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      eventBytes += chunk.length;
      if (eventBytes > maxEventBytes) {
        // The connection goes with the rest of the event; the next request opens another.
        tooLarge = true;
        response.body.destroy();
        break;
      }
      chunks.push(chunk);
    }
    return {
      requestId,
      deadlineMs: Number.isSafeInteger(deadline) && deadline > 0 ? deadline : undefined,
      functionArn: header('lambda-runtime-invoked-function-arn'),
      traceId: header('lambda-runtime-trace-id'),
      event: tooLarge ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, eventBytes),
      eventBytes,
    };
  }

  /** Posts the invocation's response (a JSON document). */
  respond(requestId: string, body: string): Promise<PostOutcome> {
    return this.post(`${api}/invocation/${encodeURIComponent(requestId)}/response`, body, {});
  }

  /** Posts the invocation's error; `headerType` goes in Lambda-Runtime-Function-Error-Type. */
  fail(requestId: string, report: ErrorReport, headerType: string): Promise<PostOutcome> {
    return this.post(`${api}/invocation/${encodeURIComponent(requestId)}/error`, JSON.stringify(report), { 'lambda-runtime-function-error-type': headerType });
  }

  /** Reports an error before the first invocation: Lambda fails the initialization with it. */
  initError(report: ErrorReport, headerType: string): Promise<PostOutcome> {
    return this.post(`${api}/init/error`, JSON.stringify(report), { 'lambda-runtime-function-error-type': headerType });
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async post(path: string, body: string, headers: Record<string, string>): Promise<PostOutcome> {
    let response;
    try {
      response = await this.client.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json', ...headers } });
    } catch (error) {
      throw new RuntimeApiError(`POST ${path} to the Lambda runtime API at ${this.address} failed: ${(error as Error).message}`);
    }
    const text = await response.body.text().catch(() => '');
    return { accepted: response.statusCode === 202, status: response.statusCode, refusal: response.statusCode === 202 ? '' : text.slice(0, 500) };
  }
}
