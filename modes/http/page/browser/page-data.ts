// What the server writes into the page for its script: a JSON block, `<script type="application/json"
// id="page-data">`, never code. Types only, so the server's side (../../page.ts) imports it too.

/** The input types, as the schema names them. */
export type InputType = 'image' | 'file' | 'text' | 'number' | 'integer' | 'boolean' | 'choice' | 'json';

export interface PageData {
  /** The model's name: the base of a downloaded result's file name. */
  model: string;
  /** Each input's example, when the page can fill it in (a data: URL for an image or a file). */
  examples: Record<string, unknown>;
  /** Each input's type, in the schema's order. */
  types: Record<string, InputType>;
  /** The kind of output the model describes (the `output` option), when it does. */
  outputKind?: OutputKind;
  /** A described structured output's fields and their kinds (a field's file may come as a URL). */
  fields?: Record<string, 'json' | 'image' | 'file'>;
}

/** What a result is, as the page shows it. */
export type OutputKind = 'json' | 'image' | 'file' | 'text' | 'fields';
