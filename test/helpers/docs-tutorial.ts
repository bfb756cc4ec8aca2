// A tutorial of docs/tutorials/ run as its reader would: the code blocks it marks with a
// `<!-- docs-test: ... -->` comment, in order, in a model folder of their own.
//   file NAME    the block is the file NAME
//   append NAME  the block is added to the end of NAME
//   run          each line is a command, run with sh in the folder; it must exit 0
//   stdout       the JSON the last command of the run block before printed on stdout
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runIn } from './model-folder.js';
import type { ProcessOutcome } from './run-process.js';

export interface MarkedBlock {
  kind: 'file' | 'append' | 'run' | 'stdout';
  /** The file a `file` or `append` block is. */
  name: string | undefined;
  body: string;
  /** The block's line in the markdown, for messages. */
  line: number;
}

const marked = /^<!-- docs-test: (\w+)(?: (\S+))? -->\n```[^\n]*\n([\s\S]*?)^```$/gm;

/** The marked blocks of a markdown text, in order; an unknown kind is an error. */
export function markedBlocks(markdown: string): MarkedBlock[] {
  return [...markdown.matchAll(marked)].map((match) => {
    const kind = match[1] as MarkedBlock['kind'];
    if (!['file', 'append', 'run', 'stdout'].includes(kind)) throw new Error(`unknown docs-test block "${kind}"`);
    if ((kind === 'file' || kind === 'append') !== (match[2] !== undefined)) throw new Error(`docs-test: ${kind} ${match[2] ?? ''}: a file block names its file, no other does`);
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
  for (const block of blocks) {
    const where = `${path}:${block.line}`;
    if (block.kind === 'file') writeFileSync(join(folder, block.name!), block.body);
    else if (block.kind === 'append') appendFileSync(join(folder, block.name!), block.body);
    else if (block.kind === 'run') {
      for (const line of block.body.split('\n')) {
        if (line.trim() === '' || line.trim().startsWith('#')) continue;
        const command = line.replaceAll(/ai-integration-\d+\.\d+\.\d+[\w.-]*\.tgz/g, tarballName);
        const outcome = await runIn(folder, 'sh', ['-c', command], {
          env: { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
          timeoutMs: 300_000,
        });
        expect(outcome.code, `${where}: ${command}\nstdout: ${outcome.stdout.toString('utf8')}\nstderr: ${outcome.stderr}`).toBe(0);
        ran.push({ command, outcome });
      }
    } else {
      const last = ran.at(-1);
      if (!last) throw new Error(`${where}: a stdout block before any command`);
      expect(printedJson(last.outcome), `${where}: the stdout of ${last.command}`).toEqual(JSON.parse(block.body));
    }
  }
  return ran;
}
