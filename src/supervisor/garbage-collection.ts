import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring in the supervisor's own process (never in the
 * model's: workers start with the flags they were given). Every request's objects live across a
 * round trip to a worker, so a young collection that falls while many are in flight makes their
 * allocation sites look long-lived, and V8 then makes those objects in the old generation; an old
 * object that dies still holds its young referents through the next young collections, so every
 * request was promoted. The supervisor holds nothing long-lived enough for pretenuring to pay.
 * The measurements: docs/explanation/performance.md, Garbage collection.
 */
export function avoidPretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
