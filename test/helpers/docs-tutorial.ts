// A page of docs/ run as its reader would: the code blocks it marks with a
// `<!-- docs-test: ... -->` comment, in order, in a model folder.
//   file NAME    the block is the file NAME
//   append NAME  the block is added to the end of NAME
//   run          each command is run with sh in the folder, and must exit 0 (a command is a line,
//                with the next ones while it ends with \ or |)
//   script       the whole block is one sh script (its variables carry from line to line)
//   serve [PATH] the one command of the block starts a service, kept running in the background
//                on a free port (its PORT) until the page ends, once GET PATH (default /health)
//                answers 200; `localhost:<port>` in the commands after it is that port, but
//                `localhost:8081`, KServe's gRPC port, is a second free port (its GRPC_PORT)
//   stdout       the JSON the last command before printed on stdout
//   stdout KEYS  the same, for the comma-separated keys only (an answer with ids and timings)
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import { expect } from 'vitest';
import { freePort } from './free-port.js';
import { cleanEnvironment, runIn } from './model-folder.js';
import type { ProcessOutcome } from './run-process.js';

export interface MarkedBlock {
  kind: 'file' | 'append' | 'run' | 'script' | 'serve' | 'stdout';
  /** The file a `file` or `append` block is; the keys a `stdout` block compares; the path a `serve` block waits for. */
  name: string | undefined;
  body: string;
  /** The block's line in the markdown, for messages. */
  line: number;
}

const marked = /^<!-- docs-test: (\w+)(?: (\S+))? -->\n```[^\n]*\n([\s\S]*?)^```$/gm;

/** The marked blocks of a markdown text, in order; an unknown kind is an error. */
export function markedBlocks(markdown: string): MarkedBlock[] {
  const matches = [...markdown.matchAll(marked)];
  const markers = markdown.match(/^<!-- docs-test: /gm)?.length ?? 0;
  if (markers !== matches.length) throw new Error(`${markers - matches.length} docs-test comment(s) not followed at once by a code block`);
  return matches.map((match) => {
    const kind = match[1] as MarkedBlock['kind'];
    if (!['file', 'append', 'run', 'script', 'serve', 'stdout'].includes(kind)) throw new Error(`unknown docs-test block "${kind}"`);
    if ((kind === 'file' || kind === 'append') && match[2] === undefined) throw new Error(`docs-test: ${kind}: name the file`);
    if ((kind === 'run' || kind === 'script') && match[2] !== undefined) throw new Error(`docs-test: ${kind} ${match[2]}: takes no argument`);
    return { kind, name: match[2], body: match[3]!, line: markdown.slice(0, match.index).split('\n').length };
  });
}

/** The JSON a command printed: stdout from its first line that opens an object or an array (npm's banner comes before it). */
export function printedJson(outcome: ProcessOutcome): unknown {
  const text = outcome.stdout.toString('utf8');
  const start = text.search(/^[[{]/m);
  if (start < 0) throw new Error(`no JSON on stdout: ${text}`);
  return JSON.parse(text.slice(start));
}

/** What a command run from a page printed, with the command. */
export interface RanCommand {
  command: string;
  outcome: ProcessOutcome;
}

export interface RunOptions {
  /** `curl` runs with --fail-with-body, so an HTTP error fails the command (pages show curl as a user types it). */
  curlFails?: boolean;
}

/**
 * Runs a page's marked blocks in `folder`. `tarball` is the packed package, put beside the
 * folder (where a tutorial's `../ai-integration-X.Y.Z.tgz` points): its name replaces the
 * page's, so the version in the text need not match. npm reads its cache first.
 */
export async function runTutorial(path: string, folder: string, tarball: string, options: RunOptions = {}): Promise<RanCommand[]> {
  const blocks = markedBlocks(readFileSync(path, 'utf8'));
  expect(blocks.length, `${path} has no docs-test blocks`).toBeGreaterThan(0);
  const tarballName = tarball.slice(tarball.lastIndexOf('/') + 1);
  const ran: RanCommand[] = [];
  const services: ChildProcess[] = [];
  let port: number | undefined;
  let grpcPort: number | undefined;
  const env = { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  const adapt = (command: string) => {
    let adapted = command.replaceAll(/ai-integration-\d+\.\d+\.\d+[\w.-]*\.tgz/g, tarballName);
    if (port !== undefined) adapted = adapted.replaceAll(/localhost:(\d{4,5})\b/g, (_, given: string) => `localhost:${given === '8081' ? grpcPort : port}`);
    if (options.curlFails) adapted = adapted.replaceAll(/(^|[|;&(]\s*)curl /gm, '$1curl --fail-with-body ');
    return adapted;
  };
  const commandsOf = (body: string) => {
    const commands: string[] = [];
    let pending = '';
    for (const line of body.split('\n')) {
      if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
      pending = pending === '' ? line : `${pending}\n${line}`;
      if (!/(\\|\|)\s*$/.test(line)) {
        commands.push(adapt(pending));
        pending = '';
      }
    }
    if (pending !== '') commands.push(adapt(pending));
    return commands;
  };
  const run = async (command: string, where: string) => {
    const outcome = await runIn(folder, 'sh', ['-c', command], { env, timeoutMs: 300_000 });
    expect(outcome.code, `${where}: ${command}\nstdout: ${outcome.stdout.toString('utf8')}\nstderr: ${outcome.stderr}`).toBe(0);
    ran.push({ command, outcome });
  };
  try {
    for (const block of blocks) {
      const where = `${path}:${block.line}`;
      if (block.kind === 'file') {
        mkdirSync(dirname(join(folder, block.name!)), { recursive: true });
        writeFileSync(join(folder, block.name!), block.body);
      } else if (block.kind === 'append') appendFileSync(join(folder, block.name!), block.body);
      else if (block.kind === 'run') {
        for (const command of commandsOf(block.body)) await run(command, where);
      } else if (block.kind === 'script') {
        await run(`set -e\n${adapt(block.body)}`, where);
      } else if (block.kind === 'serve') {
        for (const service of services.splice(0)) await stopService(service);
        port = undefined;
        const [command, ...more] = commandsOf(block.body);
        if (command === undefined || more.length > 0) throw new Error(`${where}: a serve block holds one command`);
        port = await freePort();
        grpcPort = await freePort();
        services.push(await startService(folder, command, { ...env, PORT: String(port), GRPC_PORT: String(grpcPort) }, port, block.name ?? '/health', where));
      } else {
        const last = ran.at(-1);
        if (!last) throw new Error(`${where}: a stdout block before any command`);
        const expected = JSON.parse(block.body) as Record<string, unknown>;
        const printed = printedJson(last.outcome) as Record<string, unknown>;
        if (block.name === undefined) expect(printed, `${where}: the stdout of ${last.command}`).toEqual(expected);
        else {
          const keys = block.name.split(',');
          const pick = (object: Record<string, unknown>) => Object.fromEntries(keys.map((key) => [key, object[key]]));
          expect(pick(printed), `${where}: ${keys.join(', ')} of the stdout of ${last.command}`).toEqual(pick(expected));
        }
      }
    }
  } finally {
    for (const service of services) await stopService(service);
  }
  return ran;
}

/** Starts `command` in its own process group; resolves once GET `path` on `port` answers 200. */
async function startService(folder: string, command: string, env: Record<string, string>, port: number, path: string, where: string): Promise<ChildProcess> {
  const child = spawn('sh', ['-c', command], { cwd: folder, env: cleanEnvironment(env), detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const ready = await request(`http://127.0.0.1:${port}${path}`).then(
      async (response) => {
        await response.body.dump();
        return response.statusCode === 200;
      },
      () => false,
    );
    if (ready) return child;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stopService(child);
  throw new Error(`${where}: ${command} did not become ready on port ${port}\n${stderr}`);
}

/** SIGTERM to the service's process group (sh, npx, the supervisor and its worker); waits for sh to end. */
async function stopService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  }, 10_000);
  await ended;
  clearTimeout(timer);
}
