// The compile-time message for a typo in a schema (src/_schema-typos.ts): a shim is compiled with
// TypeScript's own compiler, as the user's editor and tsc do, and each diagnostic must name the
// input, the property and what was meant, in the words of the run-time check.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { validateSchema } from '../src/inputs/schema.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// Each case is one input: its name and spec as the user writes them.
const typos: Array<[name: string, spec: string]> = [
  ['image', "{ type: 'image', defualt: 1 }"],
  ['strength', "{ type: 'number', minimum: 0 }"],
  ['prompt', "{ type: 'text', min: 1 }"],
  ['caption', "{ type: 'text', descripton: 'x' }"],
  ['note', "{ type: 'text', Default: 'x' }"],
  ['mood', "{ type: 'text', zebra: 'x' }"],
  ['steps', "{ type: 'integer', maxx: 50 }"],
  ['fast', "{ type: 'boolean', dflt: true }"],
  ['style', "{ type: 'choice', choices: ['a'], choise: ['b'] }"],
  ['seed', "{ type: 'integer', mni: 1 }"],
  ['label', "{ type: 'text', requird: false }"],
];

/** The diagnostics tsc gives `source`, a file of the project's own (paths and compiler options from tsconfig.json). */
function compile(source: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(`${repoRoot}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('tsconfig.json did not parse');
  const fileName = `${repoRoot}test/schema-typos.virtual.ts`;
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (name === fileName ? source : readFile(name));
  host.fileExists = (name) => name === fileName || ts.sys.fileExists(name);
  host.getSourceFile = (name, language) => (name === fileName ? ts.createSourceFile(name, source, language) : getSourceFile(name, language));
  const program = ts.createProgram([fileName], config.options, host);
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(fileName))
    .map(
      (diagnostic) =>
        `${diagnostic.start === undefined ? '' : `${diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start).line}: `}${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
    );
}

describe('a typo in a TypeScript schema', () => {
  // One program for every case: compiling the runtime's types takes seconds.
  const header =
    "import { defineSchema, startLoop } from 'ai-integration';\nconst ok = () => ({ 'content-type': 'text/plain', data: '', success: true }) as const;\n";
  let diagnostics: string[] | undefined;
  const diagnosticsOf = () => {
    diagnostics ??= compile(
      `${header}${typos.map(([name, spec]) => `void startLoop(ok, { ${name}: ${spec} });\n`).join('')}defineSchema({ photo: { type: 'image', exmaple: 'x' } });\n`,
    );
    return diagnostics;
  };

  test.each(typos)('input %s: the compile-time message says what the run-time check says', { timeout: 120_000 }, (name, spec) => {
    const line = 2 + typos.findIndex(([other]) => other === name);
    const found = diagnosticsOf().filter((text) => text.startsWith(`${line}: `));
    expect(found, diagnosticsOf().join('\n')).toHaveLength(1);
    const shown = /\{ error: "(.*)"; \}'\.$/m.exec(found[0]!)?.[1];
    // The same spec at run time: "invalid inputs schema: <name>: <message>".
    let runtime = '';
    try {
      validateSchema({ [name]: new Function(`return ${spec}`)() });
    } catch (error) {
      runtime = (error as Error).message;
    }
    expect(runtime).toMatch(new RegExp(`^invalid inputs schema: ${name}: `));
    expect(shown).toBe(`input '${name}': ${runtime.slice(`invalid inputs schema: ${name}: `.length)}`);
  });

  test('examples of what the message says', { timeout: 120_000 }, () => {
    const text = diagnosticsOf().join('\n');
    expect(text).toContain(
      `{ error: "input 'image': unknown property 'defualt' for type image; allowed: type, description, required, example; did you mean 'default'? binary inputs cannot have a default"; }`,
    );
    expect(text).toContain(`{ error: "input 'strength': unknown property 'minimum' for type number (did you mean 'min'?); allowed:`);
    expect(text).toContain(`{ error: "input 'caption': unknown property 'descripton' for type text (did you mean 'description'?); allowed:`);
    expect(text).toContain(`{ error: "input 'photo': unknown property 'exmaple' for type image (did you mean 'example'?); allowed:`);
    expect(text).not.toContain("not assignable to type 'never'");
  });
});
