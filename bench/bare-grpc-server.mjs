// The gRPC benchmark's baseline: a bare @grpc/grpc-js server of the same .proto, loaded as
// MODE=kserve loads it, answering every ModelInfer with the same response message (ANSWER, JSON
// with base64 bytes) and doing nothing else. Prints "listening on grpc://127.0.0.1:PORT".
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const definition = loadSync(new URL('../modes/kserve/open_inference_grpc.proto', import.meta.url).pathname, {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  arrays: true,
  oneofs: true,
});
const given = JSON.parse(process.env.ANSWER);
const answer = { ...given, raw_output_contents: given.raw_output_contents.map((bytes) => Buffer.from(bytes, 'base64')) };
const server = new Server({ 'grpc.max_receive_message_length': 100 * 1024 * 1024 });
server.addService(definition['inference.GRPCInferenceService'], { ModelInfer: (_call, callback) => callback(null, answer) });
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.error(`listening on grpc://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.forceShutdown());
