import { AiIntegrationError } from '../../src/errors.js';
import { checkBatch, runBatch } from '../../src/serving/batch.js';
import type { VertexInstance } from './predict-request.js';

/**
 * Converts every instance before any runs, so that a refused instance costs the model no work
 * on the others. The first refusal fails the request, naming the instance and the field.
 */
export function convertInstances<C>(instances: readonly VertexInstance[], convert: (raw: Record<string, unknown>) => Promise<C>): Promise<C[]> {
  return checkBatch(
    instances,
    (instance) => convert(instance.raw),
    (error, index) => locate(error, index, instances[index]!.fromParameters),
  );
}

/**
 * Runs every instance (through the queue, concurrently) and returns the results in instance
 * order. Vertex AI has no place for one instance's error in `{"predictions": [...]}`, so the
 * request fails whole, once every instance has settled, with the error of the first failing
 * instance, its message prefixed with that instance's index and its status kept.
 */
export function runInstances<C, R>(converted: readonly C[], run: (inputs: C, index: number) => Promise<R>): Promise<R[]> {
  return runBatch(converted, run, (error, index) => locate(error, index));
}

/**
 * An instance's error, saying where: `instances[1].strength: 7 is out of range ...` for a field
 * of the instance, `parameters.strength: ...` for one that came from `parameters`, and
 * `instances[1]: ...` for anything else. The code (and so the status) is kept.
 */
export function locate(error: unknown, index: number, fromParameters: ReadonlySet<string> = new Set()): unknown {
  if (!(error instanceof AiIntegrationError)) return error;
  const { field } = error;
  if (field !== undefined && error.message.startsWith(`${field}: `)) {
    const where = fromParameters.has(field) ? `parameters.${field}` : `instances[${index}].${field}`;
    return new AiIntegrationError(error.code, `${where}: ${error.message.slice(field.length + 2)}`, { field: where, cause: error });
  }
  return new AiIntegrationError(error.code, `instances[${index}]: ${error.message}`, { ...(field === undefined ? {} : { field }), cause: error });
}
