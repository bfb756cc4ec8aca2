// The README documents the exit codes, the error table and the environment; these tests keep it
// from drifting away from the code.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ExitCode, errorTable } from '../src/errors.js';
import { environmentVariables } from '../src/settings.js';
import { listModes } from '../src/registry.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  test('opens with the two commands a newcomer types', () => {
    const firstBlock = readme.split('```')[1] ?? '';
    expect(firstBlock).toMatch(/^sh\nnpm ci && npm start\s+#.*\nnpm test\s+#/);
  });

  test('documents every error code with its exit code and HTTP status', () => {
    for (const [code, entry] of Object.entries(errorTable)) {
      expect(readme).toContain(`| \`${code}\` | ${entry.exitCode} | ${entry.httpStatus} |`);
    }
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
