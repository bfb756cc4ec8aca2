// The settings table (src/settings-table.ts) is where every default lives: these keep each row
// consistent with itself, and what is derived from it (environmentVariables) in step.
import { describe, expect, test } from 'vitest';
import { environmentVariables } from '../../src/environment-variables.js';
import { readSetting, settingsTable, type Setting } from '../../src/settings-table.js';

const rows = Object.entries(settingsTable) as [keyof typeof settingsTable, Setting<unknown>][];

describe('the settings table', () => {
  test.each(rows.filter(([, row]) => row.default !== undefined && !Array.isArray(row.default)))(
    '%s: its default, written out, reads back as itself (within its bounds)',
    (name, row) => {
      expect(row.parser.read({ [name]: String(row.default) }, name)).toEqual(row.default);
      expect(readSetting({}, name)).toEqual(row.default);
      expect(row.defaultText.startsWith(String(row.default))).toBe(true);
    },
  );

  test('every row says what it sets and its default; environmentVariables gives both', () => {
    for (const [name, row] of rows) {
      expect(row.description, name).not.toBe('');
      expect(row.defaultText, name).not.toMatch(/^(undefined|)$/);
      expect(environmentVariables[name]).toBe(`${row.description} (default: ${row.defaultText})`);
    }
  });
});
