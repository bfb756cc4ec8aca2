/**
 * `ai-integration SHIM [ARGS...]`: the supervisor. It never loads the model: it starts the shim
 * as a worker process, runs the mode MODE selects with an engine that sends inputs to the worker,
 * and restarts the worker when it throws or dies, without losing queued requests. It works as a
 * Dockerfile ENTRYPOINT with the shim as CMD, and as PID 1: it handles SIGTERM/SIGINT (the mode's
 * drain) and reaps orphaned processes.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AiIntegrationError, ExitCode } from '../errors.js';
import { createLogger } from '../logger.js';
import type { Logger, WhileModelLoads } from '../types.js';
import { describeModel } from '../package-metadata.js';
import { reportError } from '../report-error.js';
import { runMode } from '../run-mode.js';
import { isServingMode, loadMode, loadRegisteredModules, modeTraits, readModeName, registerMode } from '../registry.js';
import { readSupervisorLimits } from '../settings.js';
import { describeSetting, readSetting, settingsTable } from '../settings-table.js';
import { supervisorEnvironmentVariable } from './worker-protocol.js';
import { splitArguments } from './arguments.js';
import { startOrphanReaper } from './orphan-reaper.js';
import { signalOnParentDeath, signalWhenWrapperOrphaned } from './parent-death.js';
import { avoidPretenuring } from './garbage-collection.js';
import { ShimConfigurationError, SupervisedEngine } from './supervised-engine.js';
import { weightsEntries } from '../weights/weights-entries.js';

const usage = `usage: ai-integration SHIM [ARGS...]
       ai-integration [ARGS...]        (runs AI_INTEGRATION_SHIM, when ARGS does not start with a script)
       ai-integration dev SHIM         serves SHIM (MODE=http unless set) and reloads it when its folder's source changes
       ai-integration init [DIR]       writes a model folder: package.json, a shim, Dockerfile (init --help)

Runs SHIM (a model's entrypoint that calls startLoop) under a supervisor that restarts the model
in place when it throws, dies or hangs. MODE and the other environment variables work as without it.
${supervisorVariables()}`;

// The supervisor's own rows of the settings table, each wrapped to 100 columns beside its name.
function supervisorVariables(): string {
  const rows = Object.entries(settingsTable).filter(([, row]) => row.scope === 'supervisor');
  const width = Math.max(...rows.map(([name]) => name.length));
  const indent = ' '.repeat(width + 4);
  return rows.map(([name, row]) => `  ${name.padEnd(width)}  ${wrap(describeSetting(row), 100 - indent.length).join(`\n${indent}`)}\n`).join('');
}

// "(default: 3000)" stays on one line.
function wrap(text: string, width: number): string[] {
  const lines = [''];
  for (const word of text
    .replace(/\(default: (\S+)/, '(default:\u00a0$1')
    .split(' ')
    .map((part) => part.replace('\u00a0', ' '))) {
    const line = lines.at(-1)!;
    if (line !== '' && line.length + 1 + word.length > width) lines.push(word);
    else lines[lines.length - 1] = line === '' ? word : `${line} ${word}`;
  }
  return lines;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'init') {
    const { runInit } = await import('../init/init-command.js');
    process.exit(await runInit(process.argv.slice(3)));
  }
  // `dev SHIM`: a serving mode that reloads the model when its source changes (dev-loop.ts).
  const dev = process.argv[2] === 'dev';
  const argv = process.argv.slice(dev ? 3 : 2);
  avoidPretenuring();
  const log = createLogger(process.stderr);
  // The service ends when what started it goes (SIGTERM: a serving mode drains, and the worker is
  // stopped), unless it was started in the background on purpose (EXIT_WITH_PARENT=false).
  try {
    if (readSetting(process.env, 'EXIT_WITH_PARENT')) {
      signalOnParentDeath('SIGTERM');
      signalWhenWrapperOrphaned('SIGTERM');
    }
  } catch (error) {
    process.exit(reportError(error, log));
  }
  const { shim, args } = splitArguments(argv, readSetting(process.env, 'AI_INTEGRATION_SHIM'));
  if (!dev && process.env.QUEUE_BACKEND?.trim()) {
    // A gateway runs no model: the workers of the queue do.
    const { runGateway } = await import('../queue/gateway.js');
    try {
      await runGateway(shim && existsSync(shim) ? shim : undefined, shim && existsSync(shim) ? args : argv, process.env, log);
    } catch (error) {
      process.exit(reportError(error, log));
    }
    return;
  }
  if (!shim || shim === '--help' || shim === '-h') {
    process.stderr.write(usage);
    process.exit(shim ? ExitCode.success : ExitCode.usage);
  }
  if (!existsSync(shim)) {
    log.error(`the shim ${JSON.stringify(shim)} does not exist (${resolve(shim)}); pass the model's entrypoint script, or set AI_INTEGRATION_SHIM`);
    process.exit(ExitCode.config);
  }
  let engine: SupervisedEngine | undefined;
  let whileLoading: WhileModelLoads | undefined;
  // Until a serving mode takes over SIGTERM and SIGINT (to drain), they stop the worker and end
  // the supervisor here, so a worker still loading, or busy in a one-shot mode, is never left behind.
  let modeHandlesSignals = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (modeHandlesSignals) return;
    log.info(`${signal}: stopping the model worker`);
    void (engine?.stop() ?? Promise.resolve()).then(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    process.env[supervisorEnvironmentVariable] = '1';
    if (dev && !process.env.MODE?.trim()) process.env.MODE = 'http';
    const limits = readSupervisorLimits(process.env);
    engine = new SupervisedEngine(resolve(shim), args, { ...limits, initialBackoffMs: 100, maxBackoffMs: 5000 }, log);
    startOrphanReaper(engine.isOwnChild.bind(engine), log);
    // What the mode does while the model loads (Cog's health check says STARTING on its port).
    const selected = readModeName({}, process.env, args);
    if (dev) await startDev(resolve(shim), selected, engine, log);
    // The mode's code loads while the worker starts (on another core), rather than after it is ready.
    if (selected !== undefined) void loadMode(selected).catch(() => {});
    whileLoading = selected === undefined ? undefined : await modeTraits(selected)?.whileModelLoads?.(process.env, log);
    // A model that fails to load is started again only by a serving mode (one the shim registers
    // counts as one); without MODE the mode is the command line, which runs once.
    engine.retryFailedStarts = selected !== undefined && (modeTraits(selected) === undefined || isServingMode(selected));
    // The weights first, once for every worker: the model loads from them.
    if (weightsEntries(process.env).length > 0) await fetchWeightsFirst(log, whileLoading);
    const { schema, options, modes } = await engine.start();
    const env = { ...process.env, ...(await whileLoading?.end()) };
    whileLoading = undefined;
    // The modes the shim registered as modules run here too; one registered as an object cannot.
    for (const url of modes.urls) registerMode(url);
    await loadRegisteredModules();
    const name = readModeName(options, env, args) ?? 'command_line';
    if (modes.inProcess.includes(name) && !modeTraits(name)) {
      throw new AiIntegrationError(
        'AI_ERR_UNKNOWN_MODE',
        `MODE=${name} is registered in the shim as an object, which runs only in the shim's own process, and the supervisor never loads the shim; register the module that exports it instead: registerMode(new URL('./${name}-mode.js', import.meta.url))`,
      );
    }
    const serving = isServingMode(name);
    engine.restartAfterThrow = serving;
    modeHandlesSignals = serving;
    // The workers can no longer be started: a mode that listens (a serving mode) answers what
    // waits and ends with the error; without one, the supervisor ends here. This listener is the first.
    const events = engine.events;
    events.on('failed', (error) => {
      if (events.listenerCount('failed') === 1) process.exit(reportError(error, log));
    });
    // The model is the worker's shim, not this script: its package.json names it.
    const model = describeModel(options, resolve(shim));
    const running = engine;
    await runMode(
      () => running,
      schema,
      { ...options, ...model, argv: args, env },
      () => running.stop(),
    );
  } catch (error) {
    // A shim that cannot be loaded has said why in one line already.
    const code = error instanceof ShimConfigurationError ? error.exitCode : reportError(error, log);
    await whileLoading?.end();
    await reportToPlatform(error, args, log);
    await engine?.stop();
    process.exit(code);
  }
}

// The dev loop serves: a one-shot mode has nothing to reload. A mode the shim registers is
// known only once it loads, and is taken as one that serves.
async function startDev(shim: string, selected: string | undefined, engine: SupervisedEngine, log: Logger): Promise<void> {
  if (selected !== undefined && modeTraits(selected) && !isServingMode(selected)) {
    throw new AiIntegrationError(
      'AI_ERR_USAGE',
      `dev serves the model and reloads it; MODE=${selected} runs once. Use a serving mode (MODE=http, the default)`,
    );
  }
  const { loaderArguments, startDevLoop } = await import('./dev-loop.js');
  engine.workerNodeArgs = loaderArguments(shim);
  engine.waitForReloadAfterFailedStart = true;
  await startDevLoop(shim, engine, log);
}

// WEIGHTS_URL (and AIP_STORAGE_URI in MODE=vertex) into WEIGHTS_DIR, which the workers are told (absolute, as it was fetched into).
async function fetchWeightsFirst(log: Logger, whileLoading: WhileModelLoads | undefined): Promise<void> {
  const { fetchWeightsAtStart } = await import('../weights/start-fetch.js');
  const { weightsDir } = await import('../weights/weights-path.js');
  await fetchWeightsAtStart(process.env, log, whileLoading?.report?.bind(whileLoading));
  process.env.WEIGHTS_DIR = weightsDir(process.env);
}

// The model never became ready (it failed to load, or its shim did): the mode the environment
// selects may have a platform to tell (Lambda's init/error), as it would run directly.
async function reportToPlatform(error: unknown, args: readonly string[], log: Logger): Promise<void> {
  try {
    const mode = await loadMode(readModeName({}, process.env, args) ?? 'command_line');
    await mode.reportStartupError?.(error, process.env, log);
  } catch {
    // an unknown MODE: the error above is all there is to say
  }
}

void main();
