import { describe, expect, test } from 'vitest';
import { Outbox, unpackMessages, type Delivery, type ManyMessages } from '../../src/supervisor/message-outbox.js';

type Message = { id: number; payload?: unknown };
const turn = () => new Promise((resolve) => setImmediate(resolve));

// Writes as Node's IPC channel does: structured clone refuses what it cannot carry, synchronously.
function channel(fail?: Error) {
  const writes: (Message | ManyMessages<Message>)[] = [];
  const write = (message: Message | ManyMessages<Message>, callback: (error: Error | null) => void) => {
    structuredClone(message);
    writes.push(message);
    queueMicrotask(() => callback(fail ?? null));
  };
  return { writes, write };
}

describe('Outbox', () => {
  test('what is sent in one turn goes as one message, in order; a lone message goes as itself', async () => {
    const { writes, write } = channel();
    const outbox = new Outbox<Message>(write);
    const deliveries: Delivery[] = [];
    for (const id of [1, 2, 3]) outbox.send({ id }, (delivery) => deliveries.push(delivery));
    await turn();
    outbox.send({ id: 4 });
    await turn();
    await turn();
    expect(writes).toEqual([{ type: 'many', messages: [{ id: 1 }, { id: 2 }, { id: 3 }] }, { id: 4 }]);
    expect(unpackMessages(writes[0]!)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(unpackMessages(writes[1]!)).toEqual([{ id: 4 }]);
    expect(deliveries).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
  });

  test('a message the channel cannot carry is refused alone; the others of its turn are delivered', async () => {
    const { writes, write } = channel();
    const outbox = new Outbox<Message>(write);
    const deliveries = new Map<number, Delivery>();
    outbox.send({ id: 1 }, (delivery) => deliveries.set(1, delivery));
    outbox.send({ id: 2, payload: () => 'a function cannot be cloned' }, (delivery) => deliveries.set(2, delivery));
    outbox.send({ id: 3 }, (delivery) => deliveries.set(3, delivery));
    await turn();
    await turn();
    expect(writes).toEqual([{ id: 1 }, { id: 3 }]);
    expect(deliveries.get(1)).toEqual({ ok: true });
    expect(deliveries.get(3)).toEqual({ ok: true });
    expect(deliveries.get(2)).toMatchObject({ ok: false, refused: expect.any(Error) });
  });

  test('a write that fails (the other side went away) has every message of it lost', async () => {
    const gone = new Error('channel closed');
    const { write } = channel(gone);
    const outbox = new Outbox<Message>(write);
    const deliveries: Delivery[] = [];
    outbox.send({ id: 1 }, (delivery) => deliveries.push(delivery));
    outbox.send({ id: 2 }, (delivery) => deliveries.push(delivery));
    await turn();
    await turn();
    expect(deliveries).toEqual([
      { ok: false, lost: gone },
      { ok: false, lost: gone },
    ]);
  });
});
