import { portSetting } from './settings-parts/env-values.js';
import type { ProbeTarget } from './types.js';

/**
 * The probe of a mode that listens on PORT, else on its own default port, and answers readiness
 * at `path`: what most serving modes' descriptions say.
 * @example probe: probeOnPort(5000, '/health')
 */
export function probeOnPort(
  defaultPort: number,
  path: string,
  ready?: ProbeTarget['ready'],
): (env: Readonly<Record<string, string | undefined>>) => ProbeTarget {
  return (env) => ({ port: portSetting(env) ?? defaultPort, path, ...(ready ? { ready } : {}) });
}
