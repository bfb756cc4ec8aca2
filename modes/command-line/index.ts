import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { closest, distance } from 'fastest-levenshtein';
import { convertInputs, describeExpected } from '../../src/inputs/convert-inputs.js';
import { AiIntegrationError, ExitCode, InvalidSchemaError } from '../../src/errors.js';
import { inferAndCheck, resultError } from '../../src/result/infer-and-report.js';
import { ChunkPrinter } from '../../src/result/print-chunks.js';
import { readAllBytes } from '../../src/inputs/read-input.js';
import { isBinaryType, mustBeGiven } from '../../src/inputs/schema.js';
import { setOwn } from '../../src/inputs/safe-record.js';
import type { ResultReport } from '../../src/result/check-result.js';
import type { InferenceResult, InputSpec, ModeContext } from '../../src/types.js';
import { resultBytes, writeResult } from '../../src/result/write-result.js';
import { fileFieldName, fileFields, isOutputResult, outputJson, type OutputResult } from '../../src/result/output-fields.js';
import { plural } from '../../src/plural.js';

const reservedOptions = new Set(['output', 'o', 'loop', 'count', 'help', 'h']);
const optionName = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * MODE=command_line (also the default): one option per schema input. Binary inputs take a file
 * path (`-` for stdin; `@path` and `@-` too, as Cog writes them), other inputs their value
 * (`@path` reads it from a file, `@-` from stdin). One input at most reads stdin.
 */
export async function run(context: ModeContext): Promise<number> {
  const program = buildProgram(context);
  const unknown = findUnknownOption(context);
  if (unknown) throw new AiIntegrationError('AI_ERR_USAGE', `${describeUnknownOption(program, unknown)} (see --help)`);
  try {
    program.parse([...context.argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.success; // --help
      throw new AiIntegrationError('AI_ERR_USAGE', `${error.message.replace(/^error: /, '')} (see --help)`);
    }
    throw error;
  }
  const options = program.opts<Record<string, unknown>>();
  const raw = await readOptionValues(context, options);
  const inputs = await convertInputs(context.schema, raw, {
    origin: 'text',
    strict: true,
    maxDepth: context.settings.maxInputDepth,
    urlInputs: context.settings.urlInputs,
  });
  return runInferences(context, inputs, {
    output: options.output as string | undefined,
    loop: options.loop === true || options.count !== undefined,
    count: (options.count as number | undefined) ?? (options.loop ? Number.POSITIVE_INFINITY : 1),
  });
}

function buildProgram(context: ModeContext): Command {
  const program = new Command(context.modelName)
    .description(helpDescription(context))
    .exitOverride()
    .allowExcessArguments(false)
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.log.info(text.trimEnd()),
      outputError: () => {}, // our own usage error reports it, once
    });
  for (const [name, spec] of Object.entries(context.schema)) {
    if (!optionName.test(name)) throw new InvalidSchemaError(name, 'cannot be a command-line option; use letters, digits, - and _');
    if (reservedOptions.has(name)) throw new InvalidSchemaError(name, `clashes with the command-line option --${name}; rename the input`);
    addInputOption(program, name, spec);
  }
  if (context.modes && context.modes.length > 0) {
    const width = Math.max(...context.modes.map((mode) => mode.name.length)) + 2;
    const lines = context.modes.map((mode) => `  ${mode.name.padEnd(width)}${mode.hint}`);
    program.addHelpText('after', `\nModes (this is command_line; select another with -e MODE=<name>):\n${lines.join('\n')}`);
  }
  program
    .option('-o, --output <path>', 'write the result data to this file instead of stdout (a structured output: its files into this folder, its JSON to stdout)')
    .option('--loop', "repeat inference, printing each run's time, the running average and QPS")
    .addOption(new Option('--count <n>', 'stop after n runs (implies --loop)').argParser(parsePositiveInteger));
  return program;
}

// --help is where a user meets the model first: its name (the usage line), what it does, its version.
function helpDescription(context: ModeContext): string {
  const what = 'Runs the model on the inputs given as options and writes the result to stdout.';
  const about = context.modelDescription ? `${context.modelDescription}\n\n` : '';
  return `${about}Version ${context.modelVersion}. ${what}`;
}

// Commander reports a missing mandatory option before an unknown one, so `--imag photo.jpg` would
// say that --image is missing; the misspelt option is the mistake. A separate parse (the program
// keeps what it parses) finds the first unknown option, as commander would report it.
function findUnknownOption(context: ModeContext): string | undefined {
  let unknown: string[];
  try {
    ({ unknown } = buildProgram(context).parseOptions([...context.argv]));
  } catch {
    return undefined; // an option without its value: commander's own error says so
  }
  // Everything after the first unknown option lands in `unknown`; --help anywhere still wins.
  if (unknown.some((arg) => arg === '--help' || arg === '-h')) return undefined;
  const first = unknown[0];
  return first !== undefined && first.startsWith('-') && first !== '-' ? first.replace(/=.*$/s, '') : undefined;
}

function describeUnknownOption(program: Command, flag: string): string {
  const message = `unknown option '${flag}'`;
  if (!flag.startsWith('--')) return message;
  const known = program.options.flatMap((option) => (option.long ? [option.long] : []));
  if (!known.includes('--help')) known.push('--help');
  const name = flag.slice(2).toLowerCase();
  const best = closest(
    name,
    known.map((long) => long.slice(2)),
  );
  return distance(name, best) <= Math.max(1, Math.floor(best.length / 3)) ? `${message}; did you mean '--${best}'?` : message;
}

function addInputOption(program: Command, name: string, spec: InputSpec): void {
  const help = describeOption(spec);
  if (spec.type === 'boolean') {
    const option = new Option(`--${name}`, help);
    if (mustBeGiven(spec)) option.makeOptionMandatory();
    program.addOption(option).addOption(new Option(`--no-${name}`, `set ${name} to false`));
    return;
  }
  const option = new Option(`--${name} <${isBinaryType(spec.type) ? 'path' : 'value'}>`, help);
  if (mustBeGiven(spec)) option.makeOptionMandatory();
  program.addOption(option);
}

function describeOption(spec: InputSpec): string {
  const parts = [describeExpected(spec)];
  if (isBinaryType(spec.type)) parts.push('a file path, - for stdin');
  else if (spec.type !== 'boolean') parts.push('@path reads the value from a file');
  if ('default' in spec && spec.default !== undefined) parts.push(`default: ${JSON.stringify(spec.default)}`);
  else if (spec.required === false) parts.push('optional');
  return spec.description ? `${spec.description} (${parts.join('; ')})` : `(${parts.join('; ')})`;
}

function parsePositiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError('expected a positive integer');
  return value;
}

async function readOptionValues(context: ModeContext, options: Record<string, unknown>): Promise<Record<string, unknown>> {
  const raw: Record<string, unknown> = {};
  const fromStdin = Object.entries(context.schema)
    .filter(([name, spec]) => readsStdin(spec, options[new Option(`--${name}`).attributeName()]))
    .map(([name]) => `--${name}`);
  if (fromStdin.length > 1)
    throw new AiIntegrationError(
      'AI_ERR_USAGE',
      `${fromStdin.join(' and ')} all read stdin, which holds one file; give the others as paths (in a container, mount their folder: docker run -v "$PWD:/data" IMAGE --a /data/a.jpg)`,
    );
  for (const [name, spec] of Object.entries(context.schema)) {
    const value = options[new Option(`--${name}`).attributeName()];
    if (value === undefined) continue;
    const converted = typeof value === 'string' ? await readOptionValue(context, name, spec, value) : value;
    setOwn(raw, name, converted);
  }
  return raw;
}

async function readOptionValue(context: ModeContext, name: string, spec: InputSpec, value: string): Promise<unknown> {
  const { maxInputBytes } = context.settings;
  if (isBinaryType(spec.type)) {
    // A URL is fetched by the conversion, with the URL inputs' limits and address checks.
    if (/^https?:\/\//i.test(value)) return value;
    // `@path` and `@-` as Cog's `-i name=@path` writes them, beside the plain path and `-`.
    const path = value.startsWith('@') ? value.slice(1) : value; // `@@x` is the file `@x`
    return value === '-' || value === '@-' ? readAllBytes(context.stdin, maxInputBytes, 'stdin') : readInputFile(name, path, maxInputBytes);
  }
  if (value.startsWith('@@')) return value.slice(1); // an escaped literal '@'
  if (value === '@-') return (await readAllBytes(context.stdin, maxInputBytes, 'stdin')).toString('utf8');
  if (value.startsWith('@')) return (await readInputFile(name, value.slice(1), maxInputBytes)).toString('utf8');
  return value;
}

/** Whether an option's value says to read stdin: `-` or `@-` for a file input, `@-` for any other. */
function readsStdin(spec: InputSpec, value: unknown): boolean {
  if (value === '@-') return true;
  return value === '-' && isBinaryType(spec.type);
}

// Streamed with the same bound as stdin: a path may name a device or a pipe (`@/dev/zero`,
// `/dev/stdin`) whose size is unknown until it has been read, so reading first and measuring
// after could fill the memory.
async function readInputFile(name: string, path: string, maxBytes: number): Promise<Buffer> {
  try {
    return await readAllBytes(createReadStream(path), maxBytes, `--${name}: ${JSON.stringify(path)}`);
  } catch (error) {
    if (error instanceof AiIntegrationError) throw error;
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new AiIntegrationError('AI_ERR_USAGE', `--${name}: cannot read ${JSON.stringify(path)}: ${reason}`);
  }
}

interface RunPlan {
  output: string | undefined;
  loop: boolean;
  count: number;
}

async function runInferences(context: ModeContext, inputs: Record<string, unknown>, plan: RunPlan): Promise<number> {
  let totalMilliseconds = 0;
  for (let run = 1; run <= plan.count; run++) {
    // A streamed result's chunks are printed as they come, on the first run (as its result is).
    const printer = run === 1 ? new ChunkPrinter(plan.output === undefined ? context.stdout : undefined, context.log) : undefined;
    const { result, report, milliseconds } = await inferAndCheck(context, inputs, printer?.onChunk).catch((error: unknown) => {
      printer?.endLine();
      throw error;
    });
    if (!report.ok) {
      printer?.finish(result);
      throw resultError(result, report);
    }
    if (run === 1 && (!printer || printer.finish(result))) await deliver(context, result, report, plan.output);
    if (plan.loop) {
      totalMilliseconds += milliseconds;
      const average = totalMilliseconds / run;
      context.log.info(`run ${run}: ${milliseconds.toFixed(1)} ms, average ${average.toFixed(1)} ms, ${(1000 / average).toFixed(2)} QPS`);
    } else {
      context.log.info(`result: ${report.summary} in ${milliseconds.toFixed(1)} ms`);
    }
  }
  return ExitCode.success;
}

async function deliver(context: ModeContext, result: InferenceResult, report: ResultReport, output: string | undefined): Promise<void> {
  if (output !== undefined && isOutputResult(result)) {
    await deliverFields(context, result, output);
    return;
  }
  if (output === undefined) {
    writeResult(result, report, context.stdout, context.log);
    return;
  }
  try {
    await writeFile(output, resultBytes(result));
  } catch (error) {
    throw new AiIntegrationError('AI_ERR_USAGE', `--output: cannot write ${JSON.stringify(output)}: ${(error as Error).message}`);
  }
  context.log.info(`wrote ${report.summary} to ${output}`);
}

// A structured output with --output DIR: each file written into the folder (`mask.png`,
// `frames-0.png`), and the JSON on stdout with each file's path in its place.
async function deliverFields(context: ModeContext, result: OutputResult, folder: string): Promise<void> {
  const written: string[] = [];
  try {
    await mkdir(folder, { recursive: true });
    for (const file of fileFields(result)) {
      const path = join(folder, fileFieldName(file));
      await writeFile(path, file.bytes);
      written.push(path);
    }
  } catch (error) {
    throw new AiIntegrationError(
      'AI_ERR_USAGE',
      `--output: cannot write the files of the result into the folder ${JSON.stringify(folder)}: ${(error as Error).message}`,
    );
  }
  // outputJson meets the files in the order fileFields gave them.
  let next = 0;
  context.stdout.write(
    `${JSON.stringify(
      outputJson(result, () => written[next++]),
      null,
      2,
    )}\n`,
  );
  context.log.info(`wrote ${plural(written.length, 'file')} of the structured output into ${folder}`);
}
