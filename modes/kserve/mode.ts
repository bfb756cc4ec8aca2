import { probeOnPort } from '../../src/probe-on-port.js';
import type { LazyMode } from '../../src/types.js';

/** MODE=kserve: KServe's Open Inference Protocol. */
export const mode: LazyMode = {
  name: 'kserve',
  hint: "KServe's Open Inference Protocol (V2, with binary tensors, and V1) on port 8080: docker run --rm -p 8080:8080 -e MODE=kserve IMAGE",
  serves: 'http',
  probe: probeOnPort(8080, '/v2/health/ready'),
  load: () => import('./index.js'),
};
