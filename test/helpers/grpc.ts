import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from './http-server.js';
import { freePort } from './free-port.js';
import { fixture, repoRoot, runProcess } from './run-process.js';
import { eventually } from './supervisor.js';

/** Debian's python3, where python3-grpcio and python3-grpc-tools are installed (another python3 may come first on PATH). */
export const debianPython = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** The package's .proto, as the server loads it and a client generates its stubs from. */
export const inferenceProto = join(repoRoot, 'modes/kserve/open_inference_grpc.proto');
const healthProtoDir = join(repoRoot, 'node_modules/grpc-health-check/proto');
const reflectionProtoDir = join(repoRoot, 'node_modules/@grpc/reflection/build/proto/grpc/reflection');

/**
 * Python stubs generated now, with grpc_tools.protoc, from the package's .proto, the health .proto
 * and the reflection .proto, in a temporary folder; `remove()` deletes it.
 */
export async function pythonStubs(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-stubs-'));
  const outcome = await runProcess(
    debianPython,
    [
      '-m',
      'grpc_tools.protoc',
      `-I${join(repoRoot, 'modes/kserve')}`,
      `-I${healthProtoDir}`,
      `-I${reflectionProtoDir}`,
      `--python_out=${dir}`,
      `--grpc_python_out=${dir}`,
      'open_inference_grpc.proto',
      'health/v1/health.proto',
      'v1/reflection.proto',
    ],
    { env: process.env as Record<string, string> },
  );
  if (outcome.code !== 0) throw new Error(`grpc_tools.protoc failed: ${outcome.stderr}`);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One step of test/fixtures/open-inference/grpc_calls.py. */
export type PythonStep =
  | { method: string; request?: object; metadata?: [string, string][]; timeout?: number; name?: string; wait?: false }
  | { await_line: string; file: string }
  | { cancel: string }
  | { result: string }
  | { reflection: 'list_services'; metadata?: [string, string][] };

/** What one call gave: its status name, and the response (protobuf's JSON mapping) or the error's details. */
export interface PythonResult {
  code: string;
  details?: string;
  response?: any;
  initial_metadata?: Record<string, string>;
  trailing_metadata?: Record<string, string>;
  services?: string[];
}

/** Runs the steps with Python's grpcio against `target` (host:port); one result per call, in order. */
export async function pythonCalls(stubs: string, target: string, steps: PythonStep[]): Promise<PythonResult[]> {
  const outcome = await runProcess(debianPython, [fixture('open-inference/grpc_calls.py'), stubs, target], {
    env: process.env as Record<string, string>,
    stdin: JSON.stringify(steps),
    timeoutMs: 50_000,
  });
  if (outcome.code !== 0) throw new Error(`grpc_calls.py exited ${outcome.code}: ${outcome.stderr}`);
  return JSON.parse(outcome.stdout.toString('utf8')) as PythonResult[];
}

/** A MODE=kserve server with gRPC on a free loopback port, once both its ports listen. */
export async function serveGrpc(script: string, env: Record<string, string> = {}, args: string[] = []): Promise<RunningServer & { grpc: string }> {
  const port = await freePort();
  const server = await startServer(script, { MODE: 'kserve', GRPC_PORT: String(port), ...env }, args);
  if (!(await eventually(() => server.stderr().includes(`listening on grpc://127.0.0.1:${port}`), 20_000))) {
    await server.stop();
    throw new Error(`gRPC did not listen:\n${server.stderr()}`);
  }
  return Object.assign(server, { grpc: `127.0.0.1:${port}` });
}

/** BYTES elements in binary form: each a 4-byte little-endian length, then the bytes. */
export function bytesElements(...elements: (string | Buffer)[]): Buffer {
  return Buffer.concat(
    elements.flatMap((element) => {
      const bytes = Buffer.from(element);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
}

/** Reads BYTES elements in binary form (raw_output_contents). */
export function readBytesElements(data: Buffer): Buffer[] {
  const elements: Buffer[] = [];
  for (let offset = 0; offset < data.length; ) {
    const length = data.readUInt32LE(offset);
    elements.push(data.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return elements;
}

/** A call's outcome from a Node @grpc/grpc-js client: the response, or the error's status and details. */
export interface NodeCallOutcome {
  code: number;
  details?: string;
  response?: any;
}

/**
 * A @grpc/grpc-js client of inference.GRPCInferenceService and grpc.health.v1.Health at `target`,
 * from the package's .proto and the health package's; `call` never rejects: it gives the status.
 * @example const client = await nodeClient('127.0.0.1:8081'); await client.call('ModelInfer', request)
 */
export async function nodeClient(target: string) {
  const { credentials, loadPackageDefinition, Metadata } = await import('@grpc/grpc-js');
  const { loadSync } = await import('@grpc/proto-loader');
  const { protoPath: healthProto } = await import('grpc-health-check');
  const options = { keepCase: true, longs: String, enums: String, defaults: false, arrays: true, oneofs: true };
  const loaded = loadPackageDefinition({ ...loadSync(inferenceProto, options), ...loadSync(healthProto, options) }) as any;
  const inference = new loaded.inference.GRPCInferenceService(target, credentials.createInsecure());
  const health = new loaded.grpc.health.v1.Health(target, credentials.createInsecure());
  const invoke = (client: any, method: string, request: object, deadlineMs?: number) =>
    new Promise<NodeCallOutcome>((resolve) => {
      const callOptions = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
      client[method](request, new Metadata(), callOptions, (error: { code: number; details: string } | null, response: unknown) =>
        resolve(error ? { code: error.code, details: error.details } : { code: 0, response }),
      );
    });
  return {
    call: (method: string, request: object, deadlineMs?: number) => invoke(inference, method, request, deadlineMs),
    health: (serviceName = '') => invoke(health, 'Check', { service: serviceName }),
    close(): void {
      inference.close();
      health.close();
    },
  };
}
