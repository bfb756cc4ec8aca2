import { InvalidInputError } from '../errors.js';
import { plural } from '../plural.js';

/**
 * How deeply arrays, objects, sets and maps nest in a value: 0 for a scalar, a string or bytes,
 * 1 for `[1]` or `{"a": 1}`, 2 for `[[1]]`. Iterative, because the values it exists for are too
 * deep for the stack (structured clone, which carries inputs to the model worker, recurses and
 * overflows somewhere past 2,000 levels); each container is measured once, however often it is
 * shared (a pickle's memo can share one list many times over), so the cost stays linear. A value
 * that holds itself (only possible through the API, never from a mode) has no finite depth:
 * `Infinity`.
 * @example nestingDepth({ a: [[1], 2] }) // 3
 */
export function nestingDepth(value: unknown): number {
  if (!isContainer(value)) return 0;
  const measured = new Map<object, number>();
  const onPath = new Set<object>();
  // One frame per container on the current path: the stack grows with the depth, not the width.
  const path: { node: object; children: readonly unknown[]; next: number; deepestChild: number }[] = [];
  const enter = (node: object) => {
    onPath.add(node);
    path.push({ node, children: childrenOf(node), next: 0, deepestChild: 0 });
  };
  enter(value);
  for (;;) {
    const frame = path[path.length - 1]!;
    if (frame.next < frame.children.length) {
      const child = frame.children[frame.next++];
      if (!isContainer(child)) continue;
      if (onPath.has(child)) return Number.POSITIVE_INFINITY;
      const known = measured.get(child);
      if (known === undefined) enter(child);
      else frame.deepestChild = Math.max(frame.deepestChild, known);
      continue;
    }
    const depth = frame.deepestChild + 1;
    measured.set(frame.node, depth);
    onPath.delete(frame.node);
    path.pop();
    const parent = path[path.length - 1];
    if (parent === undefined) return depth;
    parent.deepestChild = Math.max(parent.deepestChild, depth);
  }
}

/**
 * Refuses an input value nested deeper than `maxDepth` with an `InvalidInputError` naming it, so
 * that no mode hands the model (or the worker's IPC channel) a value it cannot carry.
 */
export function checkInputDepth(name: string, value: unknown, maxDepth: number): void {
  const depth = nestingDepth(value);
  if (depth <= maxDepth) return;
  const measured = Number.isFinite(depth)
    ? `nests ${plural(depth, 'level')} of arrays and objects`
    : 'holds itself (a reference cycle), so it nests without end';
  throw new InvalidInputError(name, `${measured}, deeper than the limit of ${maxDepth} (MAX_INPUT_DEPTH)`);
}

// Bytes are data, not a container: their elements are never walked.
function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer);
}

function childrenOf(node: object): readonly unknown[] {
  if (Array.isArray(node)) return node;
  if (node instanceof Set) return [...node];
  if (node instanceof Map) return [...node.keys(), ...node.values()];
  return Object.values(node);
}
