// The supervisor's table of requests it holds: the Map operations it uses, over an array.
import { expect, test } from 'vitest';
import { PendingRequests } from '../../src/supervisor/pending-requests.js';

test('set, get, has and delete by id; values is a copy safe to delete from while iterating; clear', () => {
  const table = new PendingRequests<{ id: number; name: string }>();
  for (const id of [3, 1, 2]) table.set(id, { id, name: `r${id}` });
  expect(table.get(1)?.name).toBe('r1');
  expect(table.has(4)).toBe(false);
  expect(table.delete(1)).toBe(true);
  expect(table.delete(1)).toBe(false);
  expect(table.get(1)).toBeUndefined();
  const seen: number[] = [];
  for (const request of table.values()) {
    seen.push(request.id);
    table.delete(request.id);
  }
  expect(seen).toEqual([3, 2]);
  expect(table.values()).toEqual([]);
  table.set(5, { id: 5, name: 'r5' });
  table.clear();
  expect(table.has(5)).toBe(false);
});
