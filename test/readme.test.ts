// The README documents the exit codes, the error table and the environment; these tests keep it
// from drifting away from the code.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ExitCode, errorTable, type ErrorEntry } from '../src/errors.js';
import { environmentVariables } from '../src/environment-variables.js';
import { listModes } from '../src/registry.js';
import { settingsTable } from '../src/settings-table.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  test('opens with the two commands a newcomer types', () => {
    const firstBlock = readme.split('```')[1] ?? '';
    expect(firstBlock).toMatch(/^sh\nnpm ci && npm start\s+#.*\nnpm test\s+#/);
  });

  test('documents every error code, and only those, with its exit code, HTTP status and Retry-After', () => {
    const section = readme.slice(readme.indexOf('## Exit codes and error codes'), readme.indexOf('## Environment'));
    // | `AI_ERR_...` | exit | HTTP | Retry-After seconds, or - | when |
    const rows = [...section.matchAll(/^\| `(AI_ERR_[A-Z_]+)` \| (\d+) \| (\d+) \| (\d+|-) \|/gm)];
    const documented = rows.map(([, code, exitCode, httpStatus, retryAfter]) => ({ code, exitCode: Number(exitCode), httpStatus: Number(httpStatus), retryAfterSeconds: retryAfter === '-' ? undefined : Number(retryAfter) }));
    const table = Object.entries(errorTable).map(([code, entry]: [string, ErrorEntry]) => ({ code, exitCode: entry.exitCode, httpStatus: entry.httpStatus, retryAfterSeconds: entry.retryAfterSeconds }));
    const byCode = (a: { code?: string }, b: { code?: string }) => (a.code ?? '').localeCompare(b.code ?? '');
    expect(documented.sort(byCode)).toEqual(table.sort(byCode));
  });

  test('documents every exit code', () => {
    for (const exitCode of Object.values(ExitCode)) expect(readme).toMatch(new RegExp(`\\n\\| ${exitCode} \\| \\w`));
  });

  test('documents every environment variable and every mode', () => {
    // Each variable appears in a table row of the README.
    const tableRows = readme.split('\n').filter((line) => line.startsWith('|'));
    for (const name of Object.keys(environmentVariables)) expect(tableRows.some((row) => row.includes(`\`${name}\``))).toBe(true);
    for (const mode of listModes()) expect(readme).toContain(`\`${mode.name}\``);
  });

  test('gives every setting of the table a row of its own, with the default the table has', () => {
    // | `NAME` | default | meaning |, in every table whose columns are variable, default, ...
    const rowsOf = (text: string) => {
      const tables = text.split(/^\| variable \| default \|.*\n\|[-|]+\|\n/m).slice(1);
      return tables.flatMap((table) => [...table.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \| ([^|\n]*\S[^|\n]*) \|$/gm)]).map(([, name, defaultText]) => [name!, defaultText!] as const);
    };
    const expected = Object.fromEntries(Object.entries(settingsTable).map(([name, row]) => [name, row.defaultText]));
    const environment = readme.slice(readme.indexOf('## Environment'), readme.indexOf('\n## ', readme.indexOf('## Environment') + 1));
    // The environment table: every setting, with the table's default (when this fails, the
    // expected rows' first two cells are in the diff: \`NAME\` | default).
    const listed = Object.fromEntries(rowsOf(environment).filter(([name]) => name in settingsTable));
    expect(listed).toEqual(expected);
    // Any other table of the README that gives a setting's default gives the same one.
    const elsewhere = rowsOf(readme.replace(environment, '')).filter(([name]) => name in settingsTable);
    expect(elsewhere.length).toBeGreaterThan(10);
    for (const [name, defaultText] of elsewhere) expect({ [name]: defaultText }).toEqual({ [name]: expected[name] });
  });
});
