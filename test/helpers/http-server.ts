import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import { repoRoot } from './run-process.js';

export interface RunningServer {
  url: string;
  pid: number;
  child: ChildProcess;
  stderr: () => string;
  /** What it wrote on stdout so far (V8's traces, when `nodeArgs` asked for them). */
  stdout: () => string;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop: () => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The process's peak resident memory so far, from /proc (VmHWM), in bytes. */
  peakMemory: () => number;
}

/** Starts `node ...nodeArgs script ...args` with MODE=http on a free loopback port and waits until it listens. */
export async function startServer(script: string, env: Record<string, string> = {}, args: string[] = [], nodeArgs: string[] = []): Promise<RunningServer> {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: repoRoot,
    // GRPC_PORT=0: MODE=kserve's gRPC stays off unless a test asks for it (on KServe's 8081, tests run side by side would collide).
    env: { ...(process.env as Record<string, string>), MODE: 'http', PORT: '0', HOST: '127.0.0.1', GRPC_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${stderr}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${match[1]}`);
      }
    });
    void exited.then(() => reject(new Error(`the server exited before listening:\n${stderr}`)));
  });
  return {
    url,
    pid: child.pid!,
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    peakMemory: () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
  };
}

/**
 * A request with an optional JSON body (sent as application/json), and its JSON answer with the
 * status and headers: the shape most API tests read.
 */
export async function callJson(url: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await request(`${url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as Record<string, any> };
}

/**
 * The first line of the server's stderr that contains `text`, as soon as it is written (waits on
 * the pipe's data events); rejects after `limitMs`, or if the process exits without writing it.
 * @example const line = await stderrLine(server, 'request-id=abc');
 */
export function stderrLine(server: RunningServer, text: string, limitMs = 20_000): Promise<string> {
  // Whole lines only: a chunk may end in the middle of one.
  const find = () =>
    server
      .stderr()
      .split('\n')
      .slice(0, -1)
      .find((line) => line.includes(text));
  const found = find();
  if (found !== undefined) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const stream = server.child.stderr!;
    const finish = (error?: Error, line?: string) => {
      clearTimeout(timer);
      stream.off('data', onData);
      if (error) reject(error);
      else resolve(line!);
    };
    // Registered after startServer's own listener, so stderr() already holds the chunk.
    const onData = () => {
      const line = find();
      if (line !== undefined) finish(undefined, line);
    };
    const timer = setTimeout(() => finish(new Error(`no stderr line with ${JSON.stringify(text)} within ${limitMs} ms:\n${server.stderr()}`)), limitMs);
    stream.on('data', onData);
    void server.exited.then(() => {
      const line = server
        .stderr()
        .split('\n')
        .find((candidate) => candidate.includes(text));
      finish(line === undefined ? new Error(`the server exited without a stderr line with ${JSON.stringify(text)}:\n${server.stderr()}`) : undefined, line);
    });
  });
}

/** Stops a server, or kills it when it has not stopped within 20 s (a supervisor whose event loop is stuck cannot handle SIGTERM). */
export async function stopOrKill(server: RunningServer): Promise<void> {
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 20_000);
  await server.stop();
  clearTimeout(timer);
}

/** Starts `script` with MODE=http before the tests of the calling `describe` and stops it after them; returns the server's URL, once started. */
export function serveDuringSuite(script: string, env: Record<string, string> = {}): () => string {
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startServer(script, env);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => server!.url;
}
