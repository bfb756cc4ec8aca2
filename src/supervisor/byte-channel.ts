/**
 * Large binary values between the supervisor and its worker travel on a byte stream of their own
 * (a socket pair, the worker's fd 4) beside the IPC channel, as they are: the IPC message carries
 * the rest and says which values follow on the stream (`streamed`), and the values are written
 * from their own memory (no serialization, no copy in the sender) and read into one Buffer each in
 * the receiver (one copy). Through the IPC channel's structured clone a 1.5 MB image was copied
 * three times and read in 64 KB pieces by JavaScript on each side; see docs/explanation/supervisor.md.
 */
import { Socket, type SocketConstructorOpts } from 'node:net';
import { setOwn } from '../inputs/safe-record.js';
import { unpackMessages, type ManyMessages } from './message-outbox.js';
import { FrameReader, frameHeader } from './byte-frames.js';
import { loadNativeHelper } from './native-helper.js';
import type { SharedValue, SharedValues } from './shared-memory.js';

/** Binary values longer than this go on the byte stream; the rest stay in the IPC message, where small values are cheaper. */
export const streamedValueThreshold = 64 * 1024;

/**
 * The kernel's send buffer each end asks for (Linux doubles it, within net.core.wmem_max), so that
 * a value of a few MB goes into the socket in one write. With the default (about 200 KB) a 1.5 MB
 * image went in eight pieces, each one waiting for the reader to make room: a round of wake-ups
 * and event-loop turns on both sides per piece, which cost more than the copies themselves.
 */
export const sendBufferBytes = 4 * 1024 * 1024;

// Node sets SO_SNDBUF only on UDP sockets; the native helper does it here. Without the helper (not
// built) the stream works as well, in more pieces.
function enlargeSendBuffer(fd: number | undefined): void {
  const helper = loadNativeHelper();
  if (fd === undefined || helper instanceof Error || typeof helper.setSendBufferSize !== 'function') return;
  helper.setSendBufferSize(fd, sendBufferBytes);
}

/** The worker's fd of the byte stream, in its environment (set by the supervisor). */
export const byteStreamFdVariable = 'AI_INTEGRATION_BYTE_STREAM_FD';

/**
 * The values of a message's record that follow on the byte stream, in the order of their frames:
 * `record[key]`, or, with `field`, the bytes of a structured output's file (`record[key][field].data`,
 * `record[key][field][index].data` in a list field).
 */
export type StreamedValues = { key: string; length: number; field?: string; index?: number }[];

type Taken = { rest: Record<string, unknown>; streamed: StreamedValues; values: Uint8Array[]; shared?: SharedValues };

/**
 * `record` without its binary values longer than the threshold (a shallow copy; `record` itself
 * is left as it is, so it can be sent again to another worker), with those values and their list.
 * undefined when there is none. With `share`, a value it can hand over in shared memory
 * (shared-memory.ts) goes to the list `shared` instead.
 */
export function takeLargeValues(record: Record<string, unknown>, share?: (key: string, value: Uint8Array) => SharedValue | undefined): Taken | undefined {
  let taken: Taken | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (!(value instanceof Uint8Array) || value.byteLength <= streamedValueThreshold) continue;
    taken ??= { rest: { ...record }, streamed: [], values: [] };
    // Its place is kept (the receiver puts the bytes there, so the keys keep their order); nothing
    // sees the null, since the message waits for its values.
    setOwn(taken.rest, key, null);
    const shared = share?.(key, value);
    if (shared) {
      (taken.shared ??= []).push(shared);
      continue;
    }
    taken.streamed.push({ key, length: value.byteLength });
    taken.values.push(value);
  }
  return taken;
}

/**
 * A result without the bytes of its files longer than the threshold when it is a structured output
 * (`data` an object of fields: the files travel as single results' data does), else as
 * `takeLargeValues` takes them. The result itself is left as it is (copies down to each file taken).
 */
export function takeLargeResultValues(result: Record<string, unknown>): Taken | undefined {
  const fields = result.data;
  if (fields === null || typeof fields !== 'object' || fields instanceof Uint8Array || Array.isArray(fields)) return takeLargeValues(result);
  let taken: Taken | undefined;
  let restFields: Record<string, unknown> | undefined;
  const large = (file: unknown): file is { data: Uint8Array } =>
    file !== null &&
    typeof file === 'object' &&
    (file as { data?: unknown }).data instanceof Uint8Array &&
    (file as { data: Uint8Array }).data.byteLength > streamedValueThreshold;
  const take = (field: string, file: { data: Uint8Array }, index?: number) => {
    taken ??= { rest: { ...result }, streamed: [], values: [] };
    restFields ??= { ...(fields as Record<string, unknown>) };
    taken.rest.data = restFields;
    taken.streamed.push({ key: 'data', length: file.data.byteLength, field, ...(index === undefined ? {} : { index }) });
    taken.values.push(file.data);
    return { ...file, data: null };
  };
  for (const [field, value] of Object.entries(fields)) {
    if (large(value)) {
      const file = take(field, value);
      setOwn(restFields!, field, file);
    } else if (Array.isArray(value) && value.some(large)) {
      const list = value.map((item: unknown, index) => (large(item) ? take(field, item, index) : item));
      setOwn(restFields!, field, list);
    }
  }
  return taken;
}

interface Streaming {
  id: number;
  streamed?: StreamedValues;
  shared?: SharedValues;
}

/** One side of the byte stream: writes the values of the messages sent, and reads those announced. */
export class ByteChannel {
  private readonly reader: FrameReader;
  // The values each message sent on the IPC channel takes along, written once the message has been.
  private readonly values = new WeakMap<object, Uint8Array[]>();

  /**
   * The side of an open socket (the supervisor's end, which Node made): its chunks are copied into
   * each value's Buffer. `failed`: the other side wrote what it had not announced; the channel
   * reads nothing more.
   */
  constructor(
    private readonly socket: Socket,
    private readonly failed: (error: Error) => void,
    copyChunks = true,
  ) {
    this.reader = new FrameReader(failed, (stalled) => (stalled ? socket.pause() : socket.resume()));
    // The fd of a socket Node made (the supervisor's end of the stdio pipe) is its handle's.
    enlargeSendBuffer((socket as unknown as { _handle?: { fd?: number } })._handle?.fd);
    if (copyChunks) socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    // The other side went away (EPIPE, ECONNRESET): its exit, or the IPC channel's end, says so.
    socket.on('error', () => {});
  }

  /**
   * The side of fd `fd` (the worker's end): the socket reads each value straight into its Buffer
   * (`onread`), so a value costs the kernel's copy and nothing else.
   */
  static open(fd: number, failed: (error: Error) => void): ByteChannel {
    let channel: ByteChannel | undefined;
    // Where bytes go that nothing announced yet; the reader copies them and holds them.
    const scratch = Buffer.allocUnsafe(64 * 1024);
    // `onread` is an option of net.Socket's constructor since Node 12, which @types/node leaves out.
    const options = {
      fd,
      readable: true,
      writable: true,
      onread: {
        buffer: () => channel?.reader.readBuffer() ?? scratch,
        callback: (count: number, buffer: Uint8Array) => {
          if (buffer === scratch) channel!.reader.push(Buffer.from(scratch.subarray(0, count)));
          else channel!.reader.advance(count);
        },
      },
    };
    const socket = new Socket(options as SocketConstructorOpts);
    channel = new ByteChannel(socket, failed, false);
    return channel;
  }

  /**
   * `message` with its large values of `record` taken out (and kept to be written after it); the
   * message as it is when none is large.
   */
  prepare<M extends Streaming>(
    message: M,
    record: Record<string, unknown>,
    withRest: (rest: Record<string, unknown>) => M,
    takeLarge: (record: Record<string, unknown>) => Taken | undefined = takeLargeValues,
  ): M {
    const taken = takeLarge(record);
    if (!taken) return message;
    const prepared = withRest(taken.rest);
    if (taken.shared) prepared.shared = taken.shared;
    if (taken.streamed.length === 0) return prepared;
    prepared.streamed = taken.streamed;
    this.values.set(prepared, taken.values);
    return prepared;
  }

  /**
   * Writes the values of the messages just written to the IPC channel, after them. They are not
   * copied: the stream holds the Buffers until the kernel takes them. What it holds is bounded by
   * what was sent ahead (the supervisor's send-ahead window; one result per request).
   */
  sent<M extends object>(written: M | ManyMessages<M>): void {
    for (const message of unpackMessages(written)) {
      const values = this.values.get(message);
      if (!values) continue;
      this.values.delete(message);
      this.socket.cork();
      values.forEach((value, index) => {
        this.socket.write(frameHeader((message as Streaming).id, index, value.byteLength));
        this.socket.write(value);
      });
      this.socket.uncork();
    }
  }

  /** Ends the stream: nothing more is written or read, and what waited to be written is dropped. */
  close(): void {
    this.socket.destroy();
  }

  /** Lets the process end while the channel is open. */
  unref(): void {
    this.socket.unref();
  }

  /** Calls `done` with `record` whole once the values `message` announced have arrived; at once when it announced none. */
  receive(message: Streaming, record: Record<string, unknown>, done: () => void): void {
    const streamed = message.streamed;
    if (!streamed || streamed.length === 0) {
      done();
      return;
    }
    const wellFormed = (value: StreamedValues[number]) =>
      typeof value?.key === 'string' &&
      Number.isSafeInteger(value.length) &&
      value.length >= 0 &&
      (value.field === undefined || typeof value.field === 'string') &&
      (value.index === undefined || (value.field !== undefined && Number.isSafeInteger(value.index) && value.index >= 0));
    if (!Array.isArray(streamed) || !streamed.every(wellFormed)) {
      this.failed(new Error(`message ${message.id} announced values it cannot have: ${JSON.stringify(streamed).slice(0, 200)}`));
      return;
    }
    let missing = streamed.length;
    for (const value of streamed) {
      if (value.field !== undefined && fileOf(record, value) === undefined) {
        this.failed(new Error(`message ${message.id} announced the bytes of field ${JSON.stringify(value.field)}, which its result does not have`));
        return;
      }
    }
    streamed.forEach((value, index) => {
      this.reader.expect({
        id: message.id,
        index,
        length: value.length,
        done: (bytes) => {
          if (value.field === undefined) setOwn(record, value.key, bytes);
          else fileOf(record, value)!.data = bytes;
          if (--missing === 0) done();
        },
      });
    });
  }
}

// The file of a structured output that a streamed value belongs in: an own object of the message's own fields.
function fileOf(record: Record<string, unknown>, value: StreamedValues[number]): { data: unknown } | undefined {
  const own = (object: unknown, key: string | number): unknown =>
    object !== null && typeof object === 'object' && Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined;
  let file = own(own(record, value.key), value.field!);
  if (value.index !== undefined) file = Array.isArray(file) ? own(file, value.index) : undefined;
  return file !== null && typeof file === 'object' && !Array.isArray(file) ? (file as { data: unknown }) : undefined;
}
