/**
 * `ai-integration SHIM [ARGS...]`: the supervisor. It never loads the model: it starts the shim
 * as a worker process, runs the mode MODE selects with an engine that sends inputs to the worker,
 * and restarts the worker when it throws or dies, without losing queued requests. It works as a
 * Dockerfile ENTRYPOINT with the shim as CMD, and as PID 1: it handles SIGTERM/SIGINT (the mode's
 * drain) and reaps orphaned processes.
 */
import { basename, resolve } from 'node:path';
import { AiIntegrationError, ExitCode } from '../errors.js';
import { createLogger } from '../logger.js';
import { reportError, runMode } from '../run-mode.js';
import { isServingMode } from '../registry.js';
import { readModeName } from '../settings.js';
import { supervisorEnvironmentVariable } from '../worker-protocol.js';
import { startOrphanReaper } from './orphan-reaper.js';
import { SupervisedEngine } from './supervised-engine.js';

const usage = `usage: ai-integration SHIM [ARGS...]

Runs SHIM (a model's entrypoint that calls startLoop) under a supervisor that restarts the model
in place when it throws or dies. MODE and the other environment variables work as without it.
  WORKER_MAX_START_FAILURES  consecutive failed starts before giving up (default 5)
`;

function positive(name: string, fallback: number): number {
  const text = process.env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `${name}=${JSON.stringify(text)} is not a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const log = createLogger(process.stderr);
  const [shim, ...args] = process.argv.slice(2);
  if (!shim || shim === '--help' || shim === '-h') {
    process.stderr.write(usage);
    process.exit(shim ? ExitCode.success : ExitCode.usage);
  }
  let engine: SupervisedEngine;
  try {
    process.env[supervisorEnvironmentVariable] = '1';
    engine = new SupervisedEngine(resolve(shim), args, { maxStartFailures: positive('WORKER_MAX_START_FAILURES', 5), initialBackoffMs: 100, maxBackoffMs: 5000 }, log);
    startOrphanReaper(engine.isOwnChild.bind(engine), log);
    const { schema, options } = await engine.start();
    engine.restartAfterThrow = isServingMode(readModeName(options, process.env) ?? 'command_line');
    engine.onFatal = (error) => process.exit(reportError(error, log));
    const name = options.name ?? basename(shim).replace(/\.[cm]?[jt]s$/, '');
    await runMode(() => engine, schema, { ...options, name, argv: args }, () => engine.stop());
  } catch (error) {
    process.exit(reportError(error, log));
  }
}

void main();
