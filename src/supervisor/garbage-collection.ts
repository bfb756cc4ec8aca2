import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring in the supervisor's own process (never in the
 * model's: workers start with the flags they were given).
 *
 * V8 watches which allocation sites make objects that survive a young-generation collection, and
 * past a threshold allocates that site's objects straight into the old generation. In the
 * supervisor every request's objects live across a round trip to the worker, so a collection that
 * happens to fall while many are in flight tenures sites for good: the request records, then
 * whatever V8 picks next (once, the parsed request bodies). An old object that dies still holds
 * its young referents through the next young collections, so each request's promise and the HTTP
 * objects behind it were promoted: 1 KB per request, and a mark-compact every 60 to 400 ms under
 * load. Without pretenuring, 0.1 KB per request and one mark-compact in four seconds; the
 * supervised throughput on a model that does no work rose about a tenth (bench/http-throughput).
 * The supervisor holds nothing long-lived enough for pretenuring to pay.
 */
export function avoidPretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
