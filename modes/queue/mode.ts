import { probeOnPort } from '../../src/probe-on-port.js';
import type { LazyMode } from '../../src/types.js';

/** MODE=queue: a worker of a BullMQ queue. */
export const mode: LazyMode = {
  name: 'queue',
  hint: 'a worker of a BullMQ queue on Redis (REDIS_URL, QUEUE_NAME), with probes and metrics on port 5000: docker run --rm -e MODE=queue -e REDIS_URL=redis://redis:6379 IMAGE',
  serves: 'jobs',
  probe: probeOnPort(5000, '/health'),
  load: () => import('./index.js'),
};
