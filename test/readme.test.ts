// The README documents the exit codes, the error table and the environment; these tests keep it
// from drifting away from the code.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ExitCode, errorTable, type ErrorEntry } from '../src/errors.js';
import { environmentVariables } from '../src/environment-variables.js';
import { listModes } from '../src/registry.js';

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
});
