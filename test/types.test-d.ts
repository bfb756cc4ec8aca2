// Type-level tests, checked by `tsc --noEmit` (part of npm test): the inputs object is typed from
// the schema, with no casts in user code. A wrong type here fails the type check.
import { expectTypeOf } from 'vitest';
import {
  defineSchema,
  file,
  image,
  inferenceRequests,
  output,
  startLoop,
  type ImageResult,
  type InferenceResult,
  type Inputs,
  type InputsSchema,
  type JsonValue,
} from 'ai-integration';

const ok = (data: string): InferenceResult => ({ 'content-type': 'text/plain', data, success: true });

void startLoop(
  (inputs) => {
    expectTypeOf(inputs.image).toEqualTypeOf<Buffer>();
    expectTypeOf(inputs.prompt).toEqualTypeOf<string>();
    expectTypeOf(inputs.strength).toEqualTypeOf<number>();
    expectTypeOf(inputs.steps).toEqualTypeOf<number>();
    expectTypeOf(inputs.fast).toEqualTypeOf<boolean>();
    expectTypeOf(inputs.style).toEqualTypeOf<'photo' | 'sketch'>();
    expectTypeOf(inputs.config).toEqualTypeOf<JsonValue>();
    expectTypeOf(inputs.attachment).toEqualTypeOf<Buffer | undefined>();
    expectTypeOf(inputs.note).toEqualTypeOf<string>(); // optional, but has a default: always present
    expectTypeOf(inputs.not_in_schema).toEqualTypeOf<unknown>(); // passes through untyped
    // @ts-expect-error an image is a Buffer, not a string
    inputs.image.toUpperCase();
    return ok(inputs.prompt);
  },
  {
    image: { type: 'image' },
    prompt: { type: 'text' },
    strength: { type: 'number', min: 0, max: 1 },
    steps: { type: 'integer', default: 10 },
    fast: { type: 'boolean' },
    style: { type: 'choice', choices: ['photo', 'sketch'] },
    config: { type: 'json' },
    attachment: { type: 'file', required: false },
    note: { type: 'text', required: false, default: '' },
  },
);

// The inference function may be async.
void startLoop(async (inputs) => ok(`${inputs.image.length}`), { image: { type: 'image' } });

// A schema declared apart keeps its literal types through defineSchema.
const schema = defineSchema({ mode: { type: 'choice', choices: ['fast', 'best'] }, seed: { type: 'integer', required: false } });
expectTypeOf<Inputs<typeof schema>['mode']>().toEqualTypeOf<'fast' | 'best'>();
expectTypeOf<Inputs<typeof schema>['seed']>().toEqualTypeOf<number | undefined>();

// The result must follow the contract.
// @ts-expect-error 'content-type' is required
void startLoop(() => ({ data: 'x', success: true }), { image: { type: 'image' } });

// A plain object or nothing is not a result either (docs/reference/result.md: wrap it in json()).
// @ts-expect-error a plain object is not a result
void startLoop(() => ({ label: 'cat', score: 0.93 }), { image: { type: 'image' } });
// @ts-expect-error a function that forgot to return
void startLoop(async () => {}, { image: { type: 'image' } });

// @ts-expect-error unknown input type
void startLoop(() => ok(''), { image: { type: 'imgae' } });

// A property the input's type does not know is a compile error, as it is at start-up.
// @ts-expect-error `defualt` is not a property of an image input
void startLoop(() => ok(''), { image: { type: 'image', defualt: 1 } });
// @ts-expect-error `minimum` is not a property of a number input (`min` is)
void startLoop(() => ok(''), { strength: { type: 'number', minimum: 0 } });
// @ts-expect-error `choice` is not a property of a choice input (`choices` is)
void startLoop(() => ok(''), { style: { type: 'choice', choice: ['a', 'b'] } });
// @ts-expect-error `min` is a property of number and integer inputs, not of text
void startLoop(() => ok(''), { prompt: { type: 'text', min: 1 } });
// @ts-expect-error the same check in a schema declared apart
defineSchema({ prompt: { type: 'text', defualt: 'x' } });
// @ts-expect-error and in the pull-style API
void inferenceRequests({ prompt: { type: 'text', descripton: 'x' } });

// `example` is known to every type, typed as the input's value (a data: URL string for binary inputs).
void startLoop(
  (inputs) => {
    expectTypeOf(inputs.style).toEqualTypeOf<'photo' | 'sketch'>();
    return ok(inputs.prompt);
  },
  {
    image: { type: 'image', example: 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7' },
    prompt: { type: 'text', example: 'a cat' },
    strength: { type: 'number', min: 0, max: 1, example: 0.5 },
    style: { type: 'choice', choices: ['photo', 'sketch'], example: 'sketch' },
    config: { type: 'json', example: { a: [1, null] } },
  },
);
// @ts-expect-error a number input's example is a number
void startLoop(() => ok(''), { strength: { type: 'number', example: 'high' } });

// A schema typed as a whole (not a literal) is accepted as it is.
const wide: InputsSchema = { image: { type: 'image' } };
void startLoop(() => ok(''), wide);

// The pull-style API types its requests the same way.
export async function pullLoop(): Promise<void> {
  for await (const request of inferenceRequests({ sentence: { type: 'text' }, times: { type: 'integer' } })) {
    expectTypeOf(request.inputs.sentence).toEqualTypeOf<string>();
    expectTypeOf(request.inputs.times).toEqualTypeOf<number>();
    request.respond(ok(request.inputs.sentence));
  }
}

// A batch model: with the `batch` option the function takes an array of typed inputs objects
// and returns an array of results; without it, one of each.
void startLoop(
  async (batch, { signal, signals }) => {
    expectTypeOf(batch).toEqualTypeOf<Inputs<{ image: { type: 'image' }; strength: { type: 'number'; default: 0.5 } }>[]>();
    expectTypeOf(batch[0]!.image).toEqualTypeOf<Buffer>();
    expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
    expectTypeOf(signals).toEqualTypeOf<readonly AbortSignal[]>();
    return batch.map((inputs) => ok(`${inputs.strength}`));
  },
  { image: { type: 'image' }, strength: { type: 'number', default: 0.5 } },
  { batch: { maxSize: 8, maxWaitMs: 2 } },
);
// @ts-expect-error a batch function returns an array of results, not one
void startLoop(async (batch) => ok(`${batch.length}`), { image: { type: 'image' } }, { batch: { maxSize: 8 } });
// @ts-expect-error without `batch`, the function takes one inputs object (no .map on it)
void startLoop((inputs) => inputs.map(() => ok('')), { image: { type: 'image' } });

// A streaming model: an async generator of results.
void startLoop(
  async function* (inputs) {
    expectTypeOf(inputs.prompt).toEqualTypeOf<string>();
    yield ok('a');
    yield ok('b');
  },
  { prompt: { type: 'text' } },
);

// A structured output: typed fields, assignable to the result an inference function returns; a
// value JSON cannot hold is a compile error.
{
  const png = Buffer.alloc(0);
  const result = output({ label: 'cat', score: 0.93, mask: image(png), frames: [image(png), file(png, 'application/x-npy')] });
  expectTypeOf(result.data.label).toEqualTypeOf<string>();
  expectTypeOf(result.data.mask).toEqualTypeOf<ImageResult>();
  expectTypeOf(result).toMatchTypeOf<InferenceResult>();
  void startLoop(async () => output({ label: 'x', mask: image(png) }), { image: { type: 'image' } });
  // @ts-expect-error a function is no field value
  output({ callback: () => 1 });
}
