// The design's rule for imports (../shared/design.md): they point down. Modes use src/; src/
// reaches a mode only through the registry's list; no file a mode imports may import the registry
// or the process entry (run-mode), and no static import circle exists anywhere.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers/run-process.js';

function sources(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

// Static imports only (`import ... from`, `export ... from`): a lazy import() is how the registry
// reaches a mode's code, and how a mode loads what it uses rarely.
const staticImport = /^(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/gm;
const files = [...sources(join(repoRoot, 'src')), ...sources(join(repoRoot, 'modes'))];
const graph = new Map<string, string[]>();
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const targets = [...text.matchAll(staticImport)]
    .filter((match) => !/^import type|^export type/.test(match[0]))
    .map((match) => resolve(dirname(file), match[1]!).replace(/\.js$/, '.ts'));
  graph.set(file, targets);
}
const name = (file: string) => relative(repoRoot, file);

function reachable(from: string): Set<string> {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    for (const next of graph.get(stack.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return seen;
}

describe('the import graph', () => {
  test('has no static import circle', () => {
    const circles = files.filter((file) => reachable(file).has(file)).map(name);
    expect(circles).toEqual([]);
  });

  test("no mode's code reaches the registry or the process entry, and no mode imports another", () => {
    const entries = [join(repoRoot, 'src/registry.ts'), join(repoRoot, 'src/run-mode.ts'), join(repoRoot, 'modes/built-in.ts')];
    const modeFiles = files.filter((file) => name(file).startsWith('modes/') && !name(file).endsWith('/mode.ts') && name(file) !== 'modes/built-in.ts');
    expect(modeFiles.length).toBeGreaterThan(20);
    const offending = modeFiles.flatMap((file) => {
      const folder = name(file).split('/')[1];
      return [...reachable(file)]
        .filter((target) => entries.includes(target) || (name(target).startsWith('modes/') && name(target).split('/')[1] !== folder))
        .map((target) => `${name(file)} -> ${name(target)}`);
    });
    expect(offending).toEqual([]);
  });
});
