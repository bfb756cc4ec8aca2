import { probeOnPort } from '../../src/probe-on-port.js';
import type { LazyMode } from '../../src/types.js';
import { kserveVariables } from './settings.js';

/** MODE=kserve: KServe's Open Inference Protocol. */
export const mode: LazyMode = {
  name: 'kserve',
  hint: "KServe's Open Inference Protocol (V2, with binary tensors, and V1) on port 8080, and over gRPC on 8081: docker run --rm -p 8080:8080 -p 8081:8081 -e MODE=kserve IMAGE",
  serves: 'http',
  probe: probeOnPort(8080, '/v2/health/ready'),
  variables: kserveVariables,
  load: () => import('./index.js'),
};
