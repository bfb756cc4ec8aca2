/**
 * `ai-integration init [DIR]`: writes a model folder that runs as it is, then prints the next
 * three commands (install, self-test, container). It never overwrites a file without --force.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import { planModelFolder, type ModelFolder } from './model-folder.js';

export interface InitIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  cwd: string;
}

/** Runs `init` with its arguments (those after `init`); resolves with the exit code. */
export async function runInit(argv: readonly string[], io: InitIo = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }): Promise<number> {
  const program = new Command('ai-integration init')
    .description('Writes a model folder: package.json, a shim that runs as it is (an image model returning JSON), Dockerfile and .dockerignore.')
    .argument('[directory]', 'the model folder, created when missing', '.')
    .option('--typescript', 'a TypeScript shim (shim.ts) with tsconfig.json and a build step')
    .option('--force', 'overwrite files that exist')
    .option('--from <tarball>', "depend on a packed ai-integration (npm pack) instead of the registry's release; the tarball is copied into the folder")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => {}, // reported below, once, as our other usage errors are
    });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.success; // --help
      return fail(io, `${error.message.replace(/^error: /, '').replaceAll('\n', ' ')} (see ai-integration init --help)`);
    }
    throw error;
  }
  const options = program.opts<{ typescript?: boolean; force?: boolean; from?: string }>();
  const directory = resolve(io.cwd, program.processedArgs[0] as string);
  const from = options.from === undefined ? undefined : resolve(io.cwd, options.from);
  if (from !== undefined && !existsSync(from)) return fail(io, `--from: ${JSON.stringify(options.from)} does not exist; pass the tarball npm pack wrote`);
  const folder = planModelFolder({ directory, typescript: options.typescript === true, from });

  const existing = folder.files.map((file) => file.name).filter((name) => existsSync(join(folder.directory, name)));
  if (existing.length > 0 && !options.force) {
    return fail(
      io,
      `init would overwrite ${existing.join(', ')} in ${shown(io, folder.directory)}; nothing was written. Run it again with --force to overwrite them.`,
    );
  }
  try {
    mkdirSync(folder.directory, { recursive: true });
    for (const file of folder.files) {
      const target = join(folder.directory, file.name);
      if ('text' in file) writeFileSync(target, file.text);
      else copyFileSync(file.copyFrom, target);
    }
  } catch (error) {
    return fail(io, `cannot write the model folder ${shown(io, folder.directory)}: ${(error as Error).message}`);
  }
  io.stdout.write(nextSteps(io, folder, options.typescript === true, existing));
  return ExitCode.success;
}

function fail(io: InitIo, message: string): number {
  io.stderr.write(`error: ${message}\n`);
  return ExitCode.usage;
}

function shown(io: InitIo, directory: string): string {
  const path = relative(io.cwd, directory);
  return path === '' ? 'this folder' : path.startsWith('..') ? directory : path;
}

function nextSteps(io: InitIo, folder: ModelFolder, typescript: boolean, overwritten: string[]): string {
  const cd = relative(io.cwd, folder.directory);
  const enter = cd === '' ? '' : `cd ${shellWord(cd.startsWith('..') ? folder.directory : cd)} && `;
  const commands: [string, string][] = [
    [`${enter}npm install`, typescript ? 'ai-integration, sharp and TypeScript' : 'ai-integration and sharp'],
    ['npm test', `${typescript ? 'compiles shim.ts, then ' : ''}the self-test: 5 inferences on a gray image`],
    [`docker build -t ${folder.name} . && docker run --rm -i ${folder.name} --image - < photo.jpg`, ''],
  ];
  const width = Math.max(...commands.filter(([, comment]) => comment !== '').map(([command]) => command.length));
  return [
    `Wrote ${folder.files.map((file) => file.name).join(', ')} in ${shown(io, folder.directory)}${overwritten.length > 0 ? ` (overwrote ${overwritten.join(', ')})` : ''}.`,
    'Next:',
    ...commands.map(([command, comment]) => (comment === '' ? `  ${command}` : `  ${command.padEnd(width)}   # ${comment}`)),
    '',
  ].join('\n');
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
