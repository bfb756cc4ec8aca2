// A CPU-bound model for bench/workers.mjs: each inference does CPU_ITERATIONS steps of pure
// JavaScript arithmetic (the bench calibrates the count to about 20 ms on this machine, once, so
// that every worker does the same work), and answers which worker ran it.
import { json, startLoop } from 'ai-integration';

const iterations = Number(process.env.CPU_ITERATIONS ?? 2_000_000);
function work(count) {
  let x = 0;
  // Arguments kept small: Math.sin of a large number costs more, which would make the time grow
  // faster than the count.
  for (let i = 0; i < count; i++) x += Math.sqrt(i & 4095) * Math.sin(i & 4095);
  return x;
}

startLoop(() => json({ worker: process.env.WORKER_INDEX ?? null, x: work(iterations) }), { note: { type: 'text', default: '' } });
