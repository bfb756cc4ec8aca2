// Type-level tests, checked by `tsc --noEmit` (part of npm test): the inputs object is typed from
// the schema, with no casts in user code. A wrong type here fails the type check.
import { expectTypeOf } from 'vitest';
import { defineSchema, inferenceRequests, startLoop, type InferenceResult, type Inputs, type JsonValue } from 'ai-integration';

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

// @ts-expect-error unknown input type
void startLoop(() => ok(''), { image: { type: 'imgae' } });

// The pull-style API types its requests the same way.
export async function pullLoop(): Promise<void> {
  for await (const request of inferenceRequests({ sentence: { type: 'text' }, times: { type: 'integer' } })) {
    expectTypeOf(request.inputs.sentence).toEqualTypeOf<string>();
    expectTypeOf(request.inputs.times).toEqualTypeOf<number>();
    request.respond(ok(request.inputs.sentence));
  }
}
