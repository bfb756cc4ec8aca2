// The per-request variables the supervisor carries to the model worker with each inference
// (src/worker-protocol.ts), so that MODE=lambda's _X_AMZN_TRACE_ID reaches a supervised model.
import { describe, expect, test } from 'vitest';
import { applyRequestEnvironment, perRequestVariables, requestEnvironment } from '../../src/supervisor/worker-protocol.js';

describe('per-request environment', () => {
  test('_X_AMZN_TRACE_ID is one of them', () => {
    expect(perRequestVariables).toContain('_X_AMZN_TRACE_ID');
  });

  test('a snapshot holds the ones set, and is undefined when none is (so most messages carry nothing)', () => {
    expect(requestEnvironment({ PATH: '/bin' })).toBeUndefined();
    expect(requestEnvironment({ PATH: '/bin', _X_AMZN_TRACE_ID: 'Root=1-a' })).toEqual({ _X_AMZN_TRACE_ID: 'Root=1-a' });
  });

  test("applying a snapshot sets the request's values and removes what the request did not have", () => {
    const env: NodeJS.ProcessEnv = { PATH: '/bin', _X_AMZN_TRACE_ID: 'Root=1-old' };
    applyRequestEnvironment({ _X_AMZN_TRACE_ID: 'Root=1-new' }, env);
    expect(env).toEqual({ PATH: '/bin', _X_AMZN_TRACE_ID: 'Root=1-new' });
    applyRequestEnvironment(undefined, env);
    expect(env).toEqual({ PATH: '/bin' });
  });
});
