import { availableParallelism } from 'node:os';
import { AiIntegrationError } from '../errors.js';
import type { Parser } from './env-values.js';

/** The most workers one supervisor starts: far past any machine's cores, short of a fork bomb. */
export const mostWorkers = 256;

export interface WorkerSettings {
  workers: number;
  /** The device each worker gets, by index modulo the length; undefined leaves CUDA_VISIBLE_DEVICES as it is. */
  devices: readonly string[] | undefined;
}

/** WORKERS: a number of workers from 1 to mostWorkers, or auto (one per CPU). */
export const workerCount: Parser<number> = {
  read(env, name) {
    const text = env[name];
    const value = text?.trim().toLowerCase();
    if (value === undefined || value === '') return undefined;
    if (value === 'auto') return Math.min(mostWorkers, availableParallelism());
    const count = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(count) || count < 1 || count > mostWorkers) {
      throw new AiIntegrationError(
        'AI_ERR_INVALID_OPTION',
        `${name}=${JSON.stringify(text)} is not a number of workers from 1 to ${mostWorkers}, or auto (one per CPU)`,
      );
    }
    return count;
  },
};

/** GPUS: GPU ids (0,1), or auto: the ids in CUDA_VISIBLE_DEVICES; undefined leaves each worker's as it is. */
export const gpuDevices: Parser<readonly string[]> = { read: (env, name) => readDevices(name, env[name], env.CUDA_VISIBLE_DEVICES) };

// A device id is what CUDA_VISIBLE_DEVICES takes: an index, or a GPU-/MIG- UUID.
const deviceId = /^[A-Za-z0-9][A-Za-z0-9:_./-]*$/;

function readDevices(name: string, text: string | undefined, visible: string | undefined): readonly string[] | undefined {
  const value = text?.trim();
  if (value === undefined || value === '') return undefined;
  if (value.toLowerCase() === 'auto') {
    const devices = splitList(visible ?? '');
    // No GPU listed: nothing to spread over, so every worker keeps the environment as it is.
    return devices.length > 0 && devices.every((device) => deviceId.test(device)) ? devices : undefined;
  }
  const devices = splitList(value);
  const bad = devices.find((device) => !deviceId.test(device));
  if (devices.length === 0 || bad !== undefined) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `${name}=${JSON.stringify(text)} is not a comma-separated list of GPU ids (e.g. 0,1), or auto${bad === undefined ? '' : `: ${JSON.stringify(bad)} is not a device id`}`,
    );
  }
  return devices;
}

const splitList = (text: string) =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
