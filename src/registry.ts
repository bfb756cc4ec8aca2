import { closest, distance } from 'fastest-levenshtein';
import { AiIntegrationError } from './errors.js';
import type { Mode, ModeContext } from './types.js';

/** The shape every file in `modes/` exports. */
export interface ModeModule {
  run(context: ModeContext): Promise<number>;
  reportStartupError?: Mode['reportStartupError'];
}

/** The modes that ship with the package; a name without an entry below is a compile error. */
export type BuiltInModeName =
  | 'command_line'
  | 'http'
  | 'kserve'
  | 'cog'
  | 'sagemaker'
  | 'vertex'
  | 'lambda'
  | 'queue'
  | 'test_model_integration'
  | 'test_single_image'
  | 'test_inputs_dict_json'
  | 'test_inputs_pickled_dict';

interface LazyMode {
  hint: string;
  load: () => Promise<ModeModule>;
  /** A long-running server: the supervisor restarts its model after a throw (one-shot modes just end). */
  serves?: true;
}

// Each mode is imported only when selected, so a stdin mode never loads command-line or HTTP code.
const builtInModes: Record<BuiltInModeName, LazyMode> = {
  command_line: {
    hint: 'run once from the command line: docker run --rm -i IMAGE --image - < photo.jpg (--help lists the options)',
    load: () => import('../modes/command-line/index.js'),
  },
  http: {
    hint: 'web page, JSON and multipart API on port 5000: docker run --rm -p 5000:5000 -e MODE=http IMAGE',
    load: () => import('../modes/http/index.js'),
    serves: true,
  },
  kserve: {
    hint: "KServe's Open Inference Protocol (V2, with binary tensors, and V1) on port 8080: docker run --rm -p 8080:8080 -e MODE=kserve IMAGE",
    load: () => import('../modes/kserve/index.js'),
    serves: true,
  },
  cog: {
    hint: "the Cog prediction API on port 5000, where Cog containers run: docker run --rm -p 5000:5000 -e MODE=cog IMAGE",
    load: () => import('../modes/cog/index.js'),
    serves: true,
  },
  sagemaker: {
    hint: 'Amazon SageMaker endpoints and batch transform (/ping, /invocations on 8080; also the argument serve): docker run --rm -p 8080:8080 IMAGE serve',
    load: () => import('../modes/sagemaker/index.js'),
    serves: true,
  },
  vertex: {
    hint: 'Google Vertex AI custom containers (AIP_HTTP_PORT, AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE): docker run --rm -p 8080:8080 -e MODE=vertex IMAGE',
    load: () => import('../modes/vertex/index.js'),
    serves: true,
  },
  lambda: {
    hint: 'AWS Lambda container images (the runtime API at AWS_LAMBDA_RUNTIME_API): set MODE=lambda in the function configuration',
    load: () => import('../modes/lambda/index.js'),
    serves: true,
  },
  queue: {
    hint: 'a worker of a BullMQ queue on Redis (REDIS_URL, QUEUE_NAME), with probes and metrics on port 5000: docker run --rm -e MODE=queue -e REDIS_URL=redis://redis:6379 IMAGE',
    load: () => import('../modes/queue/index.js'),
    serves: true,
  },
  test_model_integration: {
    hint: 'self-test on a built-in gray image: docker run --rm -e MODE=test_model_integration IMAGE',
    load: () => import('../modes/test-model-integration/index.js'),
  },
  test_single_image: {
    hint: 'pipe one image into stdin: docker run --rm -i -e MODE=test_single_image IMAGE < photo.jpg',
    load: () => import('../modes/test-single-image/index.js'),
  },
  test_inputs_dict_json: {
    hint: `pipe a JSON inputs object into stdin: echo '{"image": "<base64>"}' | docker run --rm -i -e MODE=test_inputs_dict_json IMAGE`,
    load: () => import('../modes/test-inputs-dict-json/index.js'),
  },
  test_inputs_pickled_dict: {
    hint: 'pipe a pickled dict of inputs into stdin: cat dict.pkl | docker run --rm -i -e MODE=test_inputs_pickled_dict IMAGE',
    load: () => import('../modes/test-inputs-pickled-dict/index.js'),
  },
};

const userModes = new Map<string, Mode>();

/**
 * Adds a mode that `MODE=<name>` selects, next to the built-in ones.
 * @example registerMode({ name: 'batch', hint: 'run a folder: docker run -v ./in:/in -e MODE=batch IMAGE', run: async (ctx) => 0 })
 */
export function registerMode(mode: Mode): void {
  if (typeof mode?.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(mode.name)) {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `a mode name must be lower_snake_case, got ${JSON.stringify(mode?.name)}`);
  }
  if (typeof mode.run !== 'function') {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `mode ${mode.name} has no run(context) function`);
  }
  if (Object.hasOwn(builtInModes, mode.name)) {
    throw new AiIntegrationError('AI_ERR_INVALID_OPTION', `mode ${mode.name} is built in and cannot be replaced`);
  }
  userModes.set(mode.name, mode);
}

/** Every mode with its hint, built-in ones first. */
export function listModes(): { name: string; hint: string }[] {
  const builtIn = Object.entries(builtInModes).map(([name, entry]) => ({ name, hint: entry.hint }));
  const registered = [...userModes.values()].map(({ name, hint }) => ({ name, hint }));
  return [...builtIn, ...registered];
}

/** Whether the mode keeps serving after a throw (so its model is restarted in place). */
export function isServingMode(name: string): boolean {
  return Object.hasOwn(builtInModes, name) ? builtInModes[name as BuiltInModeName].serves === true : false;
}

/** Loads the mode called `name`; an unknown name is an error that lists the valid ones. */
export async function loadMode(name: string): Promise<Mode> {
  if (Object.hasOwn(builtInModes, name)) {
    const entry = builtInModes[name as BuiltInModeName];
    const module = await entry.load();
    return { name, hint: entry.hint, run: module.run, ...(module.reportStartupError ? { reportStartupError: module.reportStartupError } : {}) };
  }
  const registered = userModes.get(name);
  if (registered) return registered;
  throw unknownModeError(name);
}

function unknownModeError(name: string): AiIntegrationError {
  const names = listModes().map((mode) => mode.name);
  const nearest = closest(name.toLowerCase(), names);
  const suggestion = distance(name.toLowerCase(), nearest) <= Math.max(2, Math.floor(nearest.length / 3)) ? ` Did you mean ${nearest}?` : '';
  return new AiIntegrationError('AI_ERR_UNKNOWN_MODE', `unknown MODE ${JSON.stringify(name)}. Valid modes: ${names.join(', ')}.${suggestion}`);
}
