import { describe, expect, test } from 'vitest';
import { CogHealth } from '../../modes/cog/health.js';
import { AiIntegrationError } from '../../src/errors.js';
import type { Readiness } from '../../src/http/protocol.js';

const started = Date.UTC(2024, 4, 1, 10, 0, 0);
const ready = Date.UTC(2024, 4, 1, 10, 0, 12, 345);
const reading = (status: Readiness['status'], running = 0, slots = 1) => ({ readiness: { status }, running, slots });

describe('CogHealth', () => {
  test('READY with a free slot, BUSY when every slot runs an inference', () => {
    const health = new CogHealth(started, ready);
    expect(health.status(reading('ready', 0, 1))).toBe('READY');
    expect(health.status(reading('ready', 1, 1))).toBe('BUSY');
    expect(health.status(reading('ready', 1, 2))).toBe('READY');
    expect(health.status(reading('ready', 2, 2))).toBe('BUSY');
  });

  test('STARTING while the supervisor restarts the model; BUSY while draining; DEFUNCT once failed', () => {
    const health = new CogHealth(started, ready);
    expect(health.status(reading('restarting'))).toBe('STARTING');
    expect(health.status(reading('shutting_down'))).toBe('BUSY');
    expect(health.status(reading('failed'))).toBe('DEFUNCT');
  });

  test("the body: status and the setup of the model's load, in Cog's format", () => {
    expect(new CogHealth(started, ready).body(reading('ready'))).toEqual({
      status: 'READY',
      setup: { started_at: '2024-05-01T10:00:00.000000+00:00', completed_at: '2024-05-01T10:00:12.345000+00:00', status: 'succeeded', logs: '' },
    });
  });

  test('the supervisor giving up on loading the model is SETUP_FAILED, with the reason as the setup log; other failures stay DEFUNCT', () => {
    const health = new CogHealth(started, ready);
    health.engineFailed(new AiIntegrationError('AI_ERR_WORKER_DIED', 'died'), ready + 1000);
    expect(health.status(reading('failed'))).toBe('DEFUNCT');
    health.engineFailed(new AiIntegrationError('AI_ERR_WORKER_START_FAILED', 'the model worker failed to start 5 times in a row'), Date.UTC(2024, 4, 1, 10, 5));
    expect(health.body(reading('failed'))).toEqual({
      status: 'SETUP_FAILED',
      setup: {
        started_at: '2024-05-01T10:00:00.000000+00:00',
        completed_at: '2024-05-01T10:05:00.000000+00:00',
        status: 'failed',
        logs: 'the model worker failed to start 5 times in a row\n',
      },
    });
  });

  test('the body is a copy: a caller changing it changes nothing', () => {
    const health = new CogHealth(started, ready);
    health.body(reading('ready')).setup.status = 'failed';
    expect(health.body(reading('ready')).setup.status).toBe('succeeded');
  });
});
