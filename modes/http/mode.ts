import { probeOnPort } from '../../src/probe-on-port.js';
import type { LazyMode } from '../../src/types.js';

/** MODE=http: the web page, the Python library's multipart endpoint and the prediction API. */
export const mode: LazyMode = {
  name: 'http',
  hint: 'web page, JSON and multipart API on port 5000: docker run --rm -p 5000:5000 -e MODE=http IMAGE',
  serves: 'http',
  probe: probeOnPort(5000, '/health'),
  load: () => import('./index.js'),
};
