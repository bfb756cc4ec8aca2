// A tutorial of docs/tutorials/ run as its reader would: the code blocks it marks with a
// `<!-- docs-test: ... -->` comment, in order, in a model folder of their own.
//   file NAME    the block is the file NAME
//   append NAME  the block is added to the end of NAME
//   run          each line is a command, run with sh in the folder; it must exit 0
//   serve        the one command of the block starts a service (MODE=http), kept running in the
//                background on a free port until the tutorial ends; `localhost:5000` in the
//                commands after it is that port
//   stdout       the JSON the last command of the run block before printed on stdout
//   stdout KEYS  the same, for the comma-separated keys only (an answer with ids and timings)
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { expect } from 'vitest';
import { freePort } from './free-port.js';
import { cleanEnvironment, runIn } from './model-folder.js';
import type { ProcessOutcome } from './run-process.js';

export interface MarkedBlock {
  kind: 'file' | 'append' | 'run' | 'serve' | 'stdout';
  /** The file a `file` or `append` block is; the keys a `stdout` block compares. */
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
    if (!['file', 'append', 'run', 'serve', 'stdout'].includes(kind)) throw new Error(`unknown docs-test block "${kind}"`);
    if ((kind === 'file' || kind === 'append') && match[2] === undefined) throw new Error(`docs-test: ${kind}: name the file`);
    if ((kind === 'run' || kind === 'serve') && match[2] !== undefined) throw new Error(`docs-test: ${kind} ${match[2]}: takes no argument`);
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

/** What a command run from a tutorial printed, with the command. */
export interface RanCommand {
  command: string;
  outcome: ProcessOutcome;
}

/**
 * Runs a tutorial's marked blocks in `folder`. `tarball` is the packed package, put beside the
 * folder (where the tutorial's `../ai-integration-X.Y.Z.tgz` points): its name replaces the
 * tutorial's, so the version in the text need not match. npm reads its cache first.
 */
export async function runTutorial(path: string, folder: string, tarball: string): Promise<RanCommand[]> {
  const blocks = markedBlocks(readFileSync(path, 'utf8'));
  expect(blocks.length, `${path} has no docs-test blocks`).toBeGreaterThan(0);
  const tarballName = tarball.slice(tarball.lastIndexOf('/') + 1);
  const ran: RanCommand[] = [];
  const services: ChildProcess[] = [];
  let port: number | undefined;
  const env = { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  const commandsOf = (body: string) =>
    body
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
      .map((line) => {
        const command = line.replaceAll(/ai-integration-\d+\.\d+\.\d+[\w.-]*\.tgz/g, tarballName);
        return port === undefined ? command : command.replaceAll('localhost:5000', `localhost:${port}`);
      });
  try {
    for (const block of blocks) {
      const where = `${path}:${block.line}`;
      if (block.kind === 'file') writeFileSync(join(folder, block.name!), block.body);
      else if (block.kind === 'append') appendFileSync(join(folder, block.name!), block.body);
      else if (block.kind === 'run') {
        for (const command of commandsOf(block.body)) {
          const outcome = await runIn(folder, 'sh', ['-c', command], { env, timeoutMs: 300_000 });
          expect(outcome.code, `${where}: ${command}\nstdout: ${outcome.stdout.toString('utf8')}\nstderr: ${outcome.stderr}`).toBe(0);
          ran.push({ command, outcome });
        }
      } else if (block.kind === 'serve') {
        const [command, ...more] = commandsOf(block.body);
        if (command === undefined || more.length > 0) throw new Error(`${where}: a serve block holds one command`);
        port = await freePort();
        services.push(await startService(folder, command, { ...env, PORT: String(port) }, port, where));
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

/** Starts `command` in its own process group; resolves once GET /health on `port` answers 200. */
async function startService(folder: string, command: string, env: Record<string, string>, port: number, where: string): Promise<ChildProcess> {
  const child = spawn('sh', ['-c', command], { cwd: folder, env: cleanEnvironment(env), detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const ready = await request(`http://127.0.0.1:${port}/health`).then(
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
