import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningRedis {
  /** Always 127.0.0.1: the tests' Redis is never reachable from elsewhere. */
  host: string;
  port: number;
  /** `redis://127.0.0.1:PORT`, for REDIS_URL. */
  url: string;
  /**
   * Stops the server (SIGTERM, then SIGKILL after 5 s; or `signal` itself, e.g. SIGKILL for a
   * crash); the port and the directory are kept for `restart`.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts a new server on the same port and directory (stopping the running one first) and waits
   * until it answers PING: empty by default, with the data it had when started `persistent`.
   */
  restart(): Promise<void>;
  /** Stops the server and removes its directory; what `afterEach` calls. */
  dispose(): Promise<void>;
}

/** A free loopback port: the kernel picks one, and it is released for the caller to bind. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether a Redis on `port` answers PING with +PONG (false when nothing listens yet). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export interface RedisOptions {
  /**
   * Keep the data across a stop and a restart, even a SIGKILL: an append-only file in the
   * temporary directory, written and fsynced before each write is answered
   * (`--appendonly yes --appendfsync always`). Default false: no persistence.
   */
  persistent?: boolean;
}

/**
 * Starts Debian's `redis-server` on a free loopback port, with a temporary `--dir` and no
 * persistence (`--save '' --appendonly no`), and waits until it answers PING. A restart comes
 * back empty on the same port, as a Redis without persistence does after a crash; with
 * `persistent`, it comes back with every write it had answered.
 * @example const redis = await startRedis(); ...; await redis.dispose();
 */
export async function startRedis(options: RedisOptions = {}): Promise<RunningRedis> {
  const persistence = options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const dir = mkdtempSync(join(tmpdir(), 'queue-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  const launch = async (): Promise<boolean> => {
    output = '';
    const process_ = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', ...persistence, '--protected-mode', 'yes', '--loglevel', 'notice'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = process_;
    let gone = false;
    exited = new Promise((resolve) => process_.once('exit', () => resolve()));
    void exited.then(() => (gone = true));
    // Its log says when it listens (after loading the append-only file, when there is one).
    const listening = new Promise<boolean>((resolve) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) resolve(true);
      };
      process_.stdout!.on('data', onData);
      process_.stderr!.on('data', onData);
      void exited.then(() => resolve(false));
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([listening, new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 10_000)))]);
    clearTimeout(timer);
    if (outcome === false || gone) return false;
    if (outcome === true && (await answersPing(port))) return true;
    process_.kill('SIGKILL');
    await exited;
    throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within 10 s:\n${output}`);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill(signal);
    const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  // The port may be taken between picking and binding it; a few tries cover that race.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    if (await launch()) break;
    if (attempt === 4) throw new Error(`redis-server would not start:\n${output}`);
  }

  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      if (!(await launch())) throw new Error(`redis-server did not restart on 127.0.0.1:${port}:\n${output}`);
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
