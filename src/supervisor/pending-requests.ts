/**
 * The requests the supervisor has taken and not answered, by id: the part of a Map it uses, over
 * an array. A long-lived Map that every request enters and leaves keeps the requests it held in
 * the old copies of its table (each rehash leaves one behind, in the old generation, until the
 * next mark-compact), which young collections take for live: every request's objects would be
 * promoted (docs/explanation/performance.md, Garbage collection). An array that only grows to the
 * most requests held at once leaves nothing behind. The supervisor holds a few dozen at most (what
 * its workers run and the next round each), and answers come mostly in the order the requests were
 * sent, so the one looked for is near the front.
 */
export class PendingRequests<T extends { readonly id: number }> {
  private readonly held: T[] = [];

  set(_id: number, request: T): void {
    this.held.push(request);
  }

  get(id: number): T | undefined {
    for (const request of this.held) if (request.id === id) return request;
    return undefined;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  delete(id: number): boolean {
    const index = this.held.findIndex((request) => request.id === id);
    if (index === -1) return false;
    this.held.splice(index, 1);
    return true;
  }

  /** A copy: the caller may delete while it iterates. */
  values(): T[] {
    return [...this.held];
  }

  clear(): void {
    this.held.length = 0;
  }
}
