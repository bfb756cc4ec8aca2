import { AiIntegrationError } from '../errors.js';
import { describeModel } from '../package-metadata.js';
import { everyMode, modeTraits, readModeName } from '../registry.js';
import { runMode } from '../run-mode.js';
import { readQueueName } from '../settings.js';
import { readSetting } from '../settings-table.js';
import type { Logger } from '../types.js';
import { modelRecordKey, type ModelRecord } from './model-record.js';
import { QueueEngine } from './queue-engine.js';

/**
 * A gateway: `ai-integration` with QUEUE_BACKEND set. It loads no model (the shim, when one is
 * named, is only read for its package.json's name): it connects to the queue, waits for a worker
 * to publish the model's schema and description, then serves the selected HTTP-speaking mode with
 * an engine that turns every prediction into a job (QueueEngine).
 */
export async function runGateway(shim: string | undefined, args: readonly string[], env: NodeJS.ProcessEnv, log: Logger): Promise<void> {
  const backend = readSetting(env, 'QUEUE_BACKEND')!;
  const modeName = readModeName({}, env, args) ?? 'http';
  if (modeTraits(modeName)?.serves !== 'http') {
    const apis = everyMode()
      .filter((mode) => mode.serves === 'http')
      .map((mode) => mode.name);
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      `QUEUE_BACKEND makes a gateway, which serves an HTTP API (MODE=${apis.join(', ')}), not MODE=${modeName}`,
    );
  }
  const named = env.MODEL_NAME?.trim() || (shim === undefined ? undefined : describeModel({}, shim).name);
  if (!env.QUEUE_NAME?.trim() && named === undefined) {
    throw new AiIntegrationError(
      'AI_ERR_INVALID_OPTION',
      'a gateway needs QUEUE_NAME (the queue its workers consume), or MODEL_NAME, or the shim whose package.json names the model',
    );
  }
  const queueName = readQueueName(env, named ?? '');
  const engine = await QueueEngine.open(backend, queueName, log);
  const record = await waitForModel(engine, queueName, log);
  engine.outputDescription = record.output;
  log.info(`gateway: serving ${record.name} ${record.version} from the queue ${JSON.stringify(queueName)}; no model runs here`);
  await runMode(
    () => engine,
    record.schema,
    {
      mode: modeName,
      name: record.name,
      version: record.version,
      description: record.description,
      ...(record.output ? { output: record.output } : {}),
      argv: args,
    },
    () => engine.close(),
  );
}

// Workers publish the record when they connect; a gateway started first waits for one.
async function waitForModel(engine: QueueEngine, queueName: string, log: Logger): Promise<ModelRecord> {
  let said = false;
  for (;;) {
    try {
      const text = await engine.redis.get(modelRecordKey(queueName));
      if (text) return JSON.parse(text) as ModelRecord;
    } catch (error) {
      if (!said) log.warn(`gateway: cannot read the model's schema from Redis yet: ${(error as Error).message}`);
      said = true;
    }
    if (!said) log.info(`gateway: waiting for a worker of the queue ${JSON.stringify(queueName)} (MODE=queue) to publish the model's schema`);
    said = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
