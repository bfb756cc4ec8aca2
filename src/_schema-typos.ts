// Compile-time messages for a property an input's type does not know: TypeScript can only say
// "Type 'number' is not assignable to type X", so X is the message, a string literal type that
// names the input, the property and what was meant, as the run-time check does
// (src/inputs/schema.ts, describeUnknownProperty; test/type-messages.test.ts compares the two).
import type { InputSpec, InputType } from './types.js';

type SpecOf<T> = Extract<InputSpec, { type: T }>;
type AllowedKey<T> = keyof SpecOf<T> & string;
type AnyKey = InputSpec extends infer U ? (U extends unknown ? keyof U & string : never) : never;

// The run-time check's lists, in its order, as text (a union has no order to print).
interface AllowedText {
  image: 'type, description, required, example';
  file: 'type, description, required, example';
  text: 'type, description, required, default, example';
  number: 'type, description, required, default, min, max, example';
  integer: 'type, description, required, default, min, max, example';
  boolean: 'type, description, required, default, example';
  choice: 'type, description, required, default, choices, example';
  json: 'type, description, required, default, example';
}
// Which types have the properties that not every type has.
interface OwnersText {
  default: 'text, number, integer, boolean, choice and json';
  min: 'number and integer';
  max: 'number and integer';
  choices: 'choice';
}

// The run-time check's aliases (src/inputs/schema.ts, propertyAliases): other libraries' names.
interface PropertyAliases {
  minimum: 'min';
  ge: 'min';
  gte: 'min';
  min_value: 'min';
  minvalue: 'min';
  lower: 'min';
  maximum: 'max';
  le: 'max';
  lte: 'max';
  max_value: 'max';
  maxvalue: 'max';
  upper: 'max';
  choice: 'choices';
  options: 'choices';
  enum: 'choices';
  values: 'choices';
  desc: 'description';
  help: 'description';
  title: 'description';
  label: 'description';
  doc: 'description';
  optional: 'required';
  mandatory: 'required';
  examples: 'example';
  sample: 'example';
  defaults: 'default';
  default_value: 'default';
  defaultvalue: 'default';
  value: 'default';
  initial: 'default';
  kind: 'type';
}

// How many edits (a letter changed, added or dropped) the run-time check allows from each
// property name: a third of its length, at least one.
interface EditBudget {
  type: [1];
  description: [1, 1, 1];
  required: [1, 1];
  example: [1, 1];
  default: [1, 1];
  min: [1];
  max: [1];
  choices: [1, 1];
}

type LengthAtMost<S extends string, N extends unknown[]> = S extends `${string}${infer rest}`
  ? N extends [unknown, ...infer fewer]
    ? LengthAtMost<rest, fewer>
    : false
  : true;

/** `true` when `A` becomes `B` in at most `N`'s length edits (Levenshtein, as the run-time check counts). */
type WithinEdits<A extends string, B extends string, N extends unknown[]> = A extends `${infer a}${infer restA}`
  ? B extends `${infer b}${infer restB}`
    ? a extends b
      ? WithinEdits<restA, restB, N>
      : N extends [unknown, ...infer fewer]
        ? WithinEdits<restA, restB, fewer> | WithinEdits<A, restB, fewer> | WithinEdits<restA, B, fewer>
        : false
    : LengthAtMost<A, N>
  : LengthAtMost<B, N>;

type Near<P extends string, Candidates extends string> = {
  [C in Candidates]: C extends keyof EditBudget ? (true extends WithinEdits<P, C, EditBudget[C]> ? C : never) : never;
}[Candidates];

/** The property `P` most likely meant: itself in another case, an alias, then a near spelling (this type's first). */
type Meant<P extends string, T> =
  Lowercase<P> extends AnyKey
    ? Lowercase<P>
    : Lowercase<P> extends keyof PropertyAliases
      ? PropertyAliases[Lowercase<P>]
      : [Near<Lowercase<P>, AllowedKey<T>>] extends [never]
        ? Near<Lowercase<P>, AnyKey>
        : Near<Lowercase<P>, AllowedKey<T>>;

type Hint<P extends string, T, M> = [M] extends [never]
  ? ''
  : M extends AllowedKey<T>
    ? ` (did you mean '${M}'?)`
    : M extends keyof OwnersText
      ? `; ${M extends P ? '' : `did you mean '${M}'? `}${M extends 'default' ? (T extends 'image' | 'file' ? 'binary inputs cannot have a default' : `'${M}' is for ${OwnersText[M]} inputs`) : `'${M}' is for ${OwnersText[M]} inputs`}`
      : '';

/**
 * The message for property `P` of input `K`, whose type `T` does not know it, e.g.
 * "input 'image': unknown property 'defualt' for type image; allowed: type, description, required, example; did you mean 'default'? 'default' is for text, ... inputs".
 */
export type UnknownPropertyMessage<K, P, T> = T extends InputType
  ? P extends string
    ? WithMeant<`input '${K & string}': unknown property '${P}' for type ${T}`, P, T, Meant<P, T>>
    : never
  : never;

type WithMeant<Start extends string, P extends string, T extends InputType, M> = [M] extends [never]
  ? `${Start}; allowed: ${AllowedText[T]}`
  : M extends AllowedKey<T>
    ? `${Start}${Hint<P, T, M>}; allowed: ${AllowedText[T]}`
    : `${Start}; allowed: ${AllowedText[T]}${Hint<P, T, M>}`;
