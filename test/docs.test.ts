// The reference pages document the exit codes, the error table and the environment; these tests
// keep them from drifting away from the code's own tables. And every relative link of the
// documentation lands: on a file that exists and, with a #anchor, on a heading or <a id> there.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ExitCode, errorTable, type ErrorEntry } from '../src/errors.js';
import { environmentVariables } from '../src/environment-variables.js';
import { settingsTable } from '../src/settings-table.js';
import { anchorsOf, isExternal, linksOf } from './helpers/markdown.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** README.md, CONTRIBUTING.md and every page under docs/, as paths from the repository's root. */
const pages = [
  'README.md',
  'CONTRIBUTING.md',
  ...(readdirSync(join(root, 'docs'), { recursive: true }) as string[]).filter((path) => path.endsWith('.md')).map((path) => join('docs', path)),
].sort();

const errorsPage = read('docs/reference/errors.md');
const environmentPage = read('docs/reference/environment.md');

describe('docs/reference/errors.md', () => {
  test('documents every error code, and only those, with its exit code, HTTP status and Retry-After', () => {
    // | `AI_ERR_...` | exit | HTTP | Retry-After seconds, or - | when |
    const rows = [...errorsPage.matchAll(/^\| `(AI_ERR_[A-Z_]+)` \| (\d+) \| (\d+) \| (\d+|-) \|/gm)];
    const documented = rows.map(([, code, exitCode, httpStatus, retryAfter]) => ({
      code,
      exitCode: Number(exitCode),
      httpStatus: Number(httpStatus),
      retryAfterSeconds: retryAfter === '-' ? undefined : Number(retryAfter),
    }));
    const table = Object.entries(errorTable).map(([code, entry]: [string, ErrorEntry]) => ({
      code,
      exitCode: entry.exitCode,
      httpStatus: entry.httpStatus,
      retryAfterSeconds: entry.retryAfterSeconds,
    }));
    const byCode = (a: { code?: string }, b: { code?: string }) => (a.code ?? '').localeCompare(b.code ?? '');
    expect(documented.sort(byCode)).toEqual(table.sort(byCode));
  });

  test('documents every exit code', () => {
    for (const exitCode of Object.values(ExitCode)) expect(errorsPage).toMatch(new RegExp(`\\n\\| ${exitCode} \\| \\w`));
  });
});

describe('docs/reference/environment.md', () => {
  test('documents every environment variable the runtime and its modes read, each in a table row', () => {
    const tableRows = environmentPage.split('\n').filter((line) => line.startsWith('|'));
    const missing = Object.keys(environmentVariables).filter((name) => !tableRows.some((row) => row.includes(`\`${name}\``)));
    expect(missing).toEqual([]);
  });

  test('gives every setting of the table a row of its own, with the default the table has; any other page that gives a default gives the same', () => {
    // | `NAME` | default | meaning |, in every table whose columns are variable, default, ...
    const rowsOf = (text: string) => {
      const tables = text.split(/^\| variable \| default \|.*\n\|[-|]+\|\n/m).slice(1);
      return tables
        .flatMap((table) => [...table.split(/\n(?!\|)/)[0]!.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \| ([^|\n]*\S[^|\n]*) \|$/gm)])
        .map(([, name, defaultText]) => [name!, defaultText!] as const);
    };
    const expected = Object.fromEntries(Object.entries(settingsTable).map(([name, row]) => [name, row.defaultText]));
    // The environment page: every setting, with the table's default (when this fails, the
    // expected rows' first two cells are in the diff: `NAME` | default).
    const listed = Object.fromEntries(rowsOf(environmentPage).filter(([name]) => name in settingsTable));
    expect(listed).toEqual(expected);
    // Any other page's table that gives a setting's default gives the same one.
    for (const page of pages.filter((path) => path !== 'docs/reference/environment.md')) {
      for (const [name, defaultText] of rowsOf(read(page)).filter(([name]) => name in settingsTable)) {
        expect({ page, [name]: defaultText }).toEqual({ page, [name]: expected[name] });
      }
    }
  });

  test("a default given in prose, `NAME` (default X) or `NAME`, default X, is the table's", () => {
    const wrong: string[] = [];
    for (const page of pages) {
      for (const [, name, given] of read(page).matchAll(/`([A-Z][A-Z0-9_]+)`(?:,| \()\s*default:? `?([^\s,;)`]+)/g)) {
        const row = (settingsTable as Record<string, { default: unknown }>)[name!];
        // A setting without a fixed default (PORT, per mode) may be given per mode.
        if (row === undefined || row.default === undefined || Array.isArray(row.default)) continue;
        if (given !== String(row.default)) wrong.push(`${page}: ${name} default ${given}, the table says ${String(row.default)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('docs/README.md', () => {
  test('lists every page of docs/', () => {
    const listed = new Set(linksOf(read('docs/README.md')).map(({ target }) => join('docs', target.split('#')[0]!)));
    expect(pages.filter((page) => page.startsWith('docs/') && page !== 'docs/README.md' && !listed.has(page))).toEqual([]);
  });
});

describe('links', () => {
  const anchorCache = new Map<string, Set<string>>();
  const anchorsIn = (path: string) => {
    if (!anchorCache.has(path)) anchorCache.set(path, anchorsOf(readFileSync(path, 'utf8')));
    return anchorCache.get(path)!;
  };

  test.each(pages)('every relative link of %s lands on a file, and on a heading or <a id> for a #anchor', (page) => {
    const broken: string[] = [];
    for (const { target, line } of linksOf(read(page))) {
      if (target === '' || isExternal(target)) continue;
      const [pathPart = '', anchor] = target.split('#', 2);
      const file =
        pathPart === ''
          ? join(root, page)
          : pathPart.startsWith('/')
            ? join(root, decodeURI(pathPart))
            : resolve(dirname(join(root, page)), decodeURI(pathPart));
      if (!existsSync(file)) {
        broken.push(`${page}:${line}: ${target} (no ${relative(root, file)})`);
        continue;
      }
      if (anchor === undefined || !file.endsWith('.md') || statSync(file).isDirectory()) continue;
      if (!anchorsIn(file).has(decodeURIComponent(anchor)))
        broken.push(`${page}:${line}: ${target} (no heading or <a id> "${anchor}" in ${relative(root, file)})`);
    }
    expect(broken).toEqual([]);
  });
});
