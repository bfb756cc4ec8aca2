// The supervisor's channel by itself: a parent sends batches of `infer` messages (a 5.5 KB image
// each, as the HTTP benchmarks send) to a child that answers each with a result, as the Outbox does
// (one `many` message per batch), two batches in flight. Node's IPC channel with the 'advanced'
// serialization (what the supervisor uses) beside the alternative the throughput issue named: a
// plain pipe with length-prefixed frames of v8.serialize. Printed: messages per second and the CPU
// each side spends per message, for batches of 1, 5 and 10; rounds alternate, medians.
// Usage: npm run bench -- ipc [-- messages rounds]
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import { cpuSeconds, median } from './wrk.mjs';

const [role, channel] = process.argv.slice(2);
const answer = { 'content-type': 'application/json', data: JSON.stringify({ label: 'cat', score: 0.98 }), success: true };
const resultsOf = (batch) => ({ type: 'many', messages: batch.messages.map((message) => ({ type: 'result', id: message.id, result: answer })) });

/** Length-prefixed frames of v8.serialize over a byte stream. */
function framed(readable, writable, onMessage) {
  let pending = Buffer.alloc(0);
  readable.on('data', (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const length = pending.readUInt32LE(0);
      if (pending.length < 4 + length) break;
      const message = deserialize(pending.subarray(4, 4 + length));
      pending = pending.subarray(4 + length);
      onMessage(message);
    }
  });
  return (message) => {
    const body = serialize(message);
    const frame = Buffer.allocUnsafe(4 + body.length);
    frame.writeUInt32LE(body.length, 0);
    body.copy(frame, 4);
    writable.write(frame);
  };
}

if (role === 'child') {
  if (channel === 'ipc') process.on('message', (batch) => process.send(resultsOf(batch)));
  else {
    const send = framed(new Socket({ fd: 3, writable: false }), new Socket({ fd: 4, readable: false }), (batch) => send(resultsOf(batch)));
  }
} else {
  const messages = Number(process.argv[2] ?? 40000);
  const rounds = Number(process.argv[3] ?? 3);
  if (!Number.isInteger(messages) || messages < 1 || !Number.isInteger(rounds) || rounds < 1) {
    console.error(`usage: node bench/ipc-channel.mjs [messages rounds], both whole numbers above 0 (given ${JSON.stringify(process.argv.slice(2))})`);
    process.exit(2);
  }
  const image = Buffer.alloc(5542, 7);

  const run = (kind, size) =>
    new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [process.argv[1], 'child', kind],
        kind === 'ipc'
          ? { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' }
          : { stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'] },
      );
      let sent = 0;
      let answered = 0;
      let send;
      let cpuBefore;
      let started;
      // The wire shape of src/message-outbox.ts (a `many` message per batch), written here
      // because the Outbox is internal to the package's bundle.
      const batch = () => ({
        type: 'many',
        messages: Array.from({ length: Math.min(size, messages - sent) }, () => ({ type: 'infer', id: sent++, inputs: { image } })),
      });
      const finish = () => {
        const seconds = (performance.now() - started) / 1000;
        const parentCpu = process.cpuUsage(cpuBefore[0]);
        resolve({
          rate: messages / seconds,
          parent: (parentCpu.user + parentCpu.system) / messages,
          child: ((cpuSeconds(child.pid) - cpuBefore[1]) * 1e6) / messages,
        });
        child.kill();
      };
      const onResults = (results) => {
        answered += results.messages.length;
        if (answered === messages) finish();
        else if (sent < messages) send(batch());
      };
      if (kind === 'ipc') {
        send = (message) => child.send(message);
        child.on('message', onResults);
      } else send = framed(child.stdio[4], child.stdio[3], onResults);
      // Let the child load before the clock starts.
      setTimeout(() => {
        // The parent's own CPU (cpuSeconds would add its child's).
        cpuBefore = [process.cpuUsage(), cpuSeconds(child.pid)];
        started = performance.now();
        send(batch());
        if (sent < messages) send(batch());
      }, 300);
    });

  console.log(
    `the supervisor's channel alone: ${messages} infer messages (5542-byte image) and their results, 2 batches in flight, ${rounds} rounds (node ${process.version})`,
  );
  for (const size of [1, 5, 10]) {
    const figures = { ipc: [], pipe: [] };
    for (let round = 0; round < rounds; round++) for (const kind of ['ipc', 'pipe']) figures[kind].push(await run(kind, size));
    const line = (label, kind) => {
      const rows = figures[kind];
      return `    ${label.padEnd(46)} ${median(rows.map((row) => row.rate))
        .toFixed(0)
        .padStart(6)} msg/s   CPU/message: parent ${median(rows.map((row) => row.parent))
        .toFixed(1)
        .padStart(5)} µs, child ${median(rows.map((row) => row.child))
        .toFixed(1)
        .padStart(5)} µs`;
    };
    console.log(`  batches of ${size}`);
    console.log(line("Node IPC, 'advanced' (the supervisor's)", 'ipc'));
    console.log(line('pipe, length-prefixed v8.serialize frames', 'pipe'));
  }
}
