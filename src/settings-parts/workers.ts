import { availableParallelism } from 'node:os';
import { AiIntegrationError } from '../errors.js';

/** The variables of several model workers under the supervisor; the README lists the same. */
export const workersVariables = {
  WORKERS: 'under the supervisor: model worker processes, each loading the model once (default 1; auto: one per CPU)',
  GPUS: 'under the supervisor: the GPU ids to spread workers over, round robin, by setting each one\'s CUDA_VISIBLE_DEVICES (e.g. 0,1; auto: the ids in CUDA_VISIBLE_DEVICES; default: leave CUDA_VISIBLE_DEVICES alone)',
} as const;

/** The most workers one supervisor starts: far past any machine's cores, short of a fork bomb. */
export const mostWorkers = 256;

export interface WorkerSettings {
  workers: number;
  /** The device each worker gets, by index modulo the length; undefined leaves CUDA_VISIBLE_DEVICES as it is. */
  devices: readonly string[] | undefined;
}

/** WORKERS and GPUS, checked: a bad value stops the supervisor before any worker starts. */
export function readWorkerSettings(env: Readonly<Record<string, string | undefined>>): WorkerSettings {
  return { workers: readWorkers(env.WORKERS), devices: readDevices(env.GPUS, env.CUDA_VISIBLE_DEVICES) };
}

function readWorkers(text: string | undefined): number {
  const value = text?.trim().toLowerCase();
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return Math.min(mostWorkers, availableParallelism());
  const count = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(count) || count < 1 || count > mostWorkers) {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `WORKERS=${JSON.stringify(text)} is not a number of workers from 1 to ${mostWorkers}, or auto (one per CPU)`);
  }
  return count;
}

// A device id is what CUDA_VISIBLE_DEVICES takes: an index, or a GPU-/MIG- UUID.
const deviceId = /^[A-Za-z0-9][A-Za-z0-9:_./-]*$/;

function readDevices(text: string | undefined, visible: string | undefined): readonly string[] | undefined {
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
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `GPUS=${JSON.stringify(text)} is not a comma-separated list of GPU ids (e.g. 0,1), or auto${bad === undefined ? '' : `: ${JSON.stringify(bad)} is not a device id`}`);
  }
  return devices;
}

const splitList = (text: string) => text.split(',').map((part) => part.trim()).filter((part) => part !== '');
