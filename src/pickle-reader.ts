/**
 * A safe reader for Python pickles, protocols 0 to 5, as CPython 3 and Python 2 write them.
 *
 * It is a stack machine driven by a table of opcodes; each handler below carries the opcode's
 * name from Python's `pickletools`, so it can be read side by side with that documentation.
 * Nothing in a payload is ever executed: the only globals it resolves are the few in
 * `allowedGlobals`, each mapped to a fixed JavaScript function that builds a plain value. Every
 * other global is refused by name, before anything could call it.
 *
 * Python values become plain JavaScript values:
 *   dict, OrderedDict  -> object (see `dictKey` for non-string keys)
 *   list, tuple        -> array
 *   str (Python 3), unicode (Python 2) -> string
 *   bytes, bytearray, and Python 2 str (which is bytes) -> Buffer
 *   int                -> number, or BigInt beyond Number.MAX_SAFE_INTEGER
 *   float              -> number (nan, inf and -0.0 included)
 *   True, False, None  -> true, false, null
 *   set, frozenset     -> Set
 */
import { AiIntegrationError, type ErrorCode } from './errors.js';
import { setOwn } from './inputs/safe-record.js';
import { plural } from './plural.js';

/** A pickle that cannot be read; `offset` is the byte where the offending opcode starts. */
export class PickleError extends AiIntegrationError {
  override name = 'PickleError';
  readonly offset: number;
  constructor(code: ErrorCode & `AI_ERR_PICKLE_${string}`, message: string, offset: number) {
    super(code, `pickle: ${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

export interface ReadPickleOptions {
  /** Deepest nesting of containers accepted; deeper data is refused (default 1000, CPython's recursion limit). */
  maxDepth?: number;
}

const highestProtocol = 5;
// CPython refuses to turn more decimal digits than this into an int (sys.int_info.default_max_str_digits);
// the cap also keeps decimal-to-BigInt conversion, which is quadratic, away from hostile sizes.
const maxDecimalDigits = 4300;
const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);
const utf8 = new TextDecoder('utf-8', { fatal: true });
// Buffer#latin1Slice is what toString('latin1', start, end) calls after checking its arguments;
// the reader has checked them already, and it runs once per string.
const latin1Slice = (data: Buffer, start: number, end: number): string =>
  (data as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);

/** A global from the allow-list: REDUCE calls `create` with the argument tuple. */
class AllowedGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly create: (args: unknown[], reader: PickleReader) => unknown,
  ) {}
}

function bytesFrom(args: unknown[], reader: PickleReader, what: string): Buffer {
  const [source, encoding] = args;
  if (args.length === 0) return Buffer.alloc(0);
  if (source instanceof Uint8Array) return Buffer.from(source);
  if (typeof source === 'string') return reader.encodeText(source, args.length > 1 ? encoding : 'utf-8');
  if (Array.isArray(source) && source.every((item) => Number.isInteger(item) && item >= 0 && item <= 255)) return Buffer.from(source as number[]);
  throw reader.malformed(`${what}() with unsupported arguments`);
}

function setFrom(args: unknown[], reader: PickleReader, what: string): Set<unknown> {
  const [items] = args;
  if (args.length === 0) return new Set();
  if (Array.isArray(items) || items instanceof Set) return new Set(items);
  throw reader.malformed(`${what}() needs a list of items`);
}

function orderedDictFrom(args: unknown[], reader: PickleReader): Record<string, unknown> {
  const dict: Record<string, unknown> = {};
  const [pairs] = args;
  if (args.length === 0) return dict;
  if (!Array.isArray(pairs)) throw reader.malformed('OrderedDict() needs a list of pairs');
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw reader.malformed('OrderedDict() needs (key, value) pairs');
    reader.setDictItem(dict, pair[0], pair[1]);
  }
  return dict;
}

// Python 3 writes bytes as _codecs.encode(text, 'latin1') in protocols 0 to 2, and bytearray,
// set and frozenset through their builtins; Python 2 and fix_imports spell builtins __builtin__.
const allowedGlobals = new Map<string, AllowedGlobal>();
for (const [name, create] of [
  ['_codecs.encode', (args, reader) => reader.encodeText(args[0], args.length > 1 ? args[1] : 'utf-8')],
  ['builtins.bytes', (args, reader) => bytesFrom(args, reader, 'bytes')],
  ['builtins.bytearray', (args, reader) => bytesFrom(args, reader, 'bytearray')],
  ['builtins.set', (args, reader) => setFrom(args, reader, 'set')],
  ['builtins.frozenset', (args, reader) => setFrom(args, reader, 'frozenset')],
  ['collections.OrderedDict', (args, reader) => orderedDictFrom(args, reader)],
] as const satisfies readonly (readonly [string, AllowedGlobal['create']])[]) {
  allowedGlobals.set(name, new AllowedGlobal(name, create));
  if (name.startsWith('builtins.')) allowedGlobals.set(name.replace('builtins.', '__builtin__.'), new AllowedGlobal(name, create));
}

type Handler = (reader: PickleReader) => void;
const handlers: (Handler | undefined)[] = new Array(256);
const opcodeNames: string[] = new Array(256);

function op(code: string | number, name: string, handler: Handler): void {
  const byte = typeof code === 'number' ? code : code.charCodeAt(0);
  handlers[byte] = handler;
  opcodeNames[byte] = name;
}

// How a pickle starts: PROTO (0x80) for protocols 2 to 5; for protocols 0 and 1, which have no
// PROTO, an opcode that pushes a value or a MARK (what CPython 2 and 3 write first: `(` for a
// protocol 0 dict or list, `}` for a protocol 1 dict, `c` for an OrderedDict, ...).
const firstOpcodes = new Set([0x80, ...[...'(}])NILFSVcJKMGTUXP'].map((character) => character.charCodeAt(0))]);

/**
 * Whether data can be a pickle, judged by its first byte alone: a cheap test before decoding, so
 * that JSON, an image or text on stdin is named for what it is, not as a broken pickle. A
 * protocol 0 pickle is ASCII text, so text whose first letter is an opcode passes this test.
 * @example mayBePickle(Buffer.from('{"image": 1}')) // false
 */
export function mayBePickle(data: Uint8Array): boolean {
  return data.length > 0 && firstOpcodes.has(data[0]!);
}

/** Turns pickled bytes into plain JavaScript values. Throws `PickleError` for anything else. */
export function readPickle(data: Uint8Array, options: ReadPickleOptions = {}): unknown {
  const reader = new PickleReader(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const value = reader.run();
  checkPlainData(value, reader, options.maxDepth ?? 1000);
  return value;
}

class PickleReader {
  position = 0;
  /** Where the opcode being run starts, for error messages. */
  opcodeStart = 0;
  stack: unknown[] = [];
  /** Stack lengths at each MARK. */
  marks: number[] = [];
  // The memo is dense in practice (PUT and MEMOIZE count up from 0), so an array beats a Map.
  memo: unknown[] = [];
  memoCount = 0;
  /** Where each container was made, to say where data nests too deep. */
  containerOffsets = new WeakMap<object, number>();
  /** The containers that hold another container (or a global): only these need a nesting check. */
  holdsContainers = new WeakSet<object>();
  stopped = false;

  constructor(readonly data: Buffer) {}

  run(): unknown {
    const { data } = this;
    while (!this.stopped) {
      this.opcodeStart = this.position;
      if (this.position >= data.length) throw this.malformed('the data ends before the STOP opcode (truncated?)');
      const code = data[this.position++]!;
      const handler = handlers[code];
      if (!handler) throw this.malformed(`unknown opcode 0x${code.toString(16).padStart(2, '0')}`);
      handler(this);
    }
    if (this.position !== data.length) {
      this.opcodeStart = this.position;
      throw this.malformed(`${plural(data.length - this.position, 'byte')} of extra data after the STOP opcode`);
    }
    if (this.stack.length !== 1 || this.marks.length > 0) throw this.malformed('STOP with a stack that does not hold exactly one value');
    return this.stack[0];
  }

  malformed(message: string): PickleError {
    return new PickleError('AI_ERR_PICKLE_MALFORMED', message, this.opcodeStart);
  }

  unsupported(message: string): PickleError {
    return new PickleError('AI_ERR_PICKLE_UNSUPPORTED', message, this.opcodeStart);
  }

  // --- reading arguments -------------------------------------------------------------------

  /** Moves past `length` bytes and returns where they start; reads go straight to `data`, no copies or views. */
  need(length: number): number {
    const start = this.position;
    if (start + length > this.data.length) {
      throw this.malformed(`${opcodeNames[this.data[this.opcodeStart]!]} needs ${plural(length, 'byte')} but only ${this.data.length - start} remain`);
    }
    this.position = start + length;
    return start;
  }

  /** A view of the next `length` bytes (bytes values are not copied). */
  take(length: number): Buffer {
    const start = this.need(length);
    return this.data.subarray(start, start + length);
  }

  uint8(): number {
    return this.data[this.need(1)]!;
  }

  uint16(): number {
    return this.data.readUInt16LE(this.need(2));
  }

  int32(): number {
    return this.data.readInt32LE(this.need(4));
  }

  uint32(): number {
    return this.data.readUInt32LE(this.need(4));
  }

  float64(): number {
    return this.data.readDoubleBE(this.need(8));
  }

  /** A length field of 4 or 8 bytes: never negative, never past the end of the data. */
  length(size: 1 | 4 | 8, signed = false): number {
    let length: number;
    if (size === 1) length = this.uint8();
    else if (size === 4) length = signed ? this.int32() : this.uint32();
    else length = Number(this.data.readBigUInt64LE(this.need(8))); // beyond 2**53 only the message is approximate
    if (length < 0) throw this.malformed(`negative length ${length}`);
    if (length > this.data.length - this.position) {
      throw this.malformed(
        `${opcodeNames[this.data[this.opcodeStart]!]} declares ${plural(length, 'byte')} but only ${this.data.length - this.position} remain`,
      );
    }
    return length;
  }

  /** A newline-terminated argument of the text opcodes, without the newline. */
  line(): string {
    const end = this.data.indexOf(10, this.position);
    if (end === -1) throw this.malformed(`${opcodeNames[this.data[this.opcodeStart]!]} argument has no terminating newline (truncated?)`);
    const text = this.data.toString('latin1', this.position, end);
    this.position = end + 1;
    return text;
  }

  /** The next `length` bytes as UTF-8 text, refusing invalid UTF-8 as CPython does. */
  text(length: number): string {
    const { data } = this;
    const start = this.need(length);
    const end = start + length;
    // Short ASCII strings are most of a typical pickle: they need no validation, and a latin-1
    // slice of the input makes a flat string, which is much cheaper to use as an object key than
    // one built up a character at a time.
    if (length <= 64) {
      for (let index = start; index < end; index++) if (data[index]! > 0x7f) return this.decodeUtf8(start, end);
      return latin1Slice(data, start, end);
    }
    return this.decodeUtf8(start, end);
  }

  decodeUtf8(start: number, end: number): string {
    try {
      return utf8.decode(this.data.subarray(start, end));
    } catch {
      throw this.malformed('a string that is not valid UTF-8');
    }
  }

  encodeText(text: unknown, encoding: unknown): Buffer {
    if (typeof text !== 'string' || typeof encoding !== 'string') throw this.malformed('_codecs.encode() needs a string and an encoding');
    const name = encoding.toLowerCase().replace('_', '-');
    if (name === 'latin1' || name === 'latin-1' || name === 'iso-8859-1') {
      for (let index = 0; index < text.length; index++) {
        if (text.charCodeAt(index) > 0xff) throw this.malformed('_codecs.encode() of text that is not latin-1');
      }
      return Buffer.from(text, 'latin1');
    }
    if (name === 'utf-8' || name === 'utf8') return Buffer.from(text, 'utf8');
    if (name === 'ascii') {
      if (/[^\x00-\x7f]/.test(text)) throw this.malformed('_codecs.encode() of text that is not ASCII');
      return Buffer.from(text, 'latin1');
    }
    throw this.unsupported(`_codecs.encode() with the encoding ${JSON.stringify(encoding)}`);
  }

  // --- the stack -----------------------------------------------------------------------------

  push(value: unknown): void {
    this.stack.push(value);
  }

  pop(): unknown {
    // Like CPython, never pop past the innermost MARK.
    const fence = this.marks.length > 0 ? this.marks[this.marks.length - 1]! : 0;
    if (this.stack.length <= fence) throw this.malformed(`stack underflow in ${opcodeNames[this.data[this.opcodeStart]!]}`);
    return this.stack.pop();
  }

  top(): unknown {
    const fence = this.marks.length > 0 ? this.marks[this.marks.length - 1]! : 0;
    if (this.stack.length <= fence) throw this.malformed(`stack underflow in ${opcodeNames[this.data[this.opcodeStart]!]}`);
    return this.stack[this.stack.length - 1];
  }

  /** The items pushed since the innermost MARK, which is removed. */
  popMark(): unknown[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.malformed(`${opcodeNames[this.data[this.opcodeStart]!]} without a MARK before it`);
    return this.stack.splice(mark);
  }

  container<T extends object>(value: T): T {
    this.containerOffsets.set(value, this.opcodeStart);
    return value;
  }

  /** A container made from `items`, noting whether it holds other containers. */
  containerOf<T extends object>(value: T, items: readonly unknown[]): T {
    for (const item of items) this.noteChild(value, item);
    return this.container(value);
  }

  noteChild(parent: object, child: unknown): void {
    if (typeof child === 'object' && child !== null && !(child instanceof Uint8Array)) this.holdsContainers.add(parent);
  }

  newDict(): Record<string, unknown> {
    return this.container({});
  }

  setDictItem(dict: unknown, key: unknown, value: unknown): void {
    // Only dicts this reader made have the plain prototype: not lists, sets, bytes, or the shared
    // allow-list entries, which must never gain properties from a payload.
    if (typeof dict !== 'object' || dict === null || Object.getPrototypeOf(dict) !== Object.prototype) {
      throw this.malformed(`${opcodeNames[this.data[this.opcodeStart]!]} on a value that is not a dict`);
    }
    const name = typeof key === 'string' ? key : this.dictKey(key);
    if (typeof value === 'object' && value !== null) this.noteChild(dict, value);
    setOwn(dict as Record<string, unknown>, name, value);
  }

  /**
   * Object keys are strings. Other Python keys become the text JSON would give them
   * (1 -> "1", 2.5 -> "2.5", True -> "true", None -> "null"); bytes keys (Python 2 str) are
   * decoded as UTF-8. Keys that have no such text (tuples, frozensets) are refused.
   */
  dictKey(key: unknown): string {
    if (typeof key === 'string') return key;
    if (typeof key === 'number' || typeof key === 'bigint') return String(key);
    if (typeof key === 'boolean') return key ? 'true' : 'false';
    if (key === null) return 'null';
    if (key instanceof Uint8Array) {
      try {
        return utf8.decode(key);
      } catch {
        throw this.malformed('a dict key of bytes that are not UTF-8 text');
      }
    }
    throw this.unsupported(
      `a dict key of type ${Array.isArray(key) ? 'tuple' : key instanceof Set ? 'frozenset' : typeof key}; only strings, bytes, numbers, booleans and None can be keys`,
    );
  }

  integer(value: bigint): number | bigint {
    return value <= maxSafe && value >= -maxSafe ? Number(value) : value;
  }

  decimal(text: string, opcode: string): number | bigint {
    const digits = text.replace(/^[+-]/, '');
    if (!/^\d+$/.test(digits)) throw this.malformed(`${opcode} argument ${JSON.stringify(text.slice(0, 40))} is not an integer`);
    if (digits.length > maxDecimalDigits) throw this.unsupported(`${opcode} with more than ${maxDecimalDigits} digits`);
    return this.integer(BigInt(text));
  }

  /** LONG1 and LONG4: little-endian two's complement. */
  littleEndian(bytes: Buffer): number | bigint {
    if (bytes.length === 0) return 0;
    if (bytes.length <= 6) return bytes.readIntLE(0, bytes.length);
    let value = BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`);
    if (bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(bytes.length * 8);
    return this.integer(value);
  }

  decimalIndex(text: string): number {
    if (!/^\d{1,15}$/.test(text)) throw this.malformed(`memo index ${JSON.stringify(text.slice(0, 20))} is not a number`);
    return Number(text);
  }

  memoPut(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0) throw this.malformed(`memo index ${index} is not valid`);
    if (this.memo[index] === undefined) this.memoCount++;
    this.memo[index] = this.top(); // values are never undefined, so undefined means "not set"
  }

  memoGet(index: number): void {
    const value = this.memo[index];
    if (value === undefined) throw this.malformed(`memo key ${index} is not defined`);
    this.push(value);
  }

  resolveGlobal(module: string, name: string): AllowedGlobal {
    const found = allowedGlobals.get(`${module}.${name}`);
    if (!found) {
      throw new PickleError(
        'AI_ERR_PICKLE_GLOBAL',
        `refused global ${module}.${name}: only plain data is read (allowed: ${[...new Set([...allowedGlobals.values()].map((entry) => entry.qualifiedName))].join(', ')})`,
        this.opcodeStart,
      );
    }
    return found;
  }
}

// Python's repr() escapes in the quoted argument of STRING, turned back into bytes.
function pythonStringLiteral(reader: PickleReader, text: string): Buffer {
  const quote = text[0];
  if (text.length < 2 || (quote !== "'" && quote !== '"') || text[text.length - 1] !== quote) {
    throw reader.malformed('STRING argument is not a quoted string');
  }
  const body = text.slice(1, -1);
  const bytes: number[] = [];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '\n': -1 };
  for (let index = 0; index < body.length; index++) {
    const char = body.charCodeAt(index);
    if (char !== 92) {
      bytes.push(char);
      continue;
    }
    const next = body[++index];
    if (next === undefined) throw reader.malformed('STRING argument ends in a backslash');
    if (next in simple) {
      if (simple[next]! >= 0) bytes.push(simple[next]!);
    } else if (next === 'x') {
      const hex = body.slice(index + 1, index + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw reader.malformed('STRING argument has a bad \\x escape');
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else if (next >= '0' && next <= '7') {
      const octal = /^[0-7]{1,3}/.exec(body.slice(index, index + 3))![0];
      bytes.push(Number.parseInt(octal, 8) & 0xff);
      index += octal.length - 1;
    } else {
      bytes.push(92, next.charCodeAt(0));
    }
  }
  return Buffer.from(bytes);
}

// UNICODE's argument is raw-unicode-escape: latin-1 bytes, with \uXXXX and \UXXXXXXXX escapes
// (an escape only after an odd run of backslashes, as CPython decodes it).
function rawUnicodeEscape(reader: PickleReader, text: string): string {
  return text.replace(/(\\+)(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})?/g, (match, slashes: string, sequence: string | undefined) => {
    if (!sequence || slashes.length % 2 === 0) return match;
    const codePoint = Number.parseInt(sequence.slice(1), 16);
    if (codePoint > 0x10ffff) throw reader.malformed('UNICODE argument has an escape beyond U+10FFFF');
    return slashes.slice(1) + String.fromCodePoint(codePoint);
  });
}

function parseFloatText(reader: PickleReader, text: string): number {
  const lower = text.trim().toLowerCase();
  if (lower === 'nan' || lower === '-nan' || lower === '+nan') return Number.NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  if (lower.length > 400 || !/^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/.test(lower))
    throw reader.malformed(`FLOAT argument ${JSON.stringify(text.slice(0, 40))} is not a number`);
  return Number(lower);
}

function itemsToDict(reader: PickleReader, dict: unknown, items: unknown[]): void {
  if (items.length % 2 !== 0) throw reader.malformed(`${opcodeNames[reader.data[reader.opcodeStart]!]} with an odd number of items`);
  for (let index = 0; index < items.length; index += 2) reader.setDictItem(dict, items[index], items[index + 1]);
}

function appendAll(reader: PickleReader, list: unknown, items: unknown[]): void {
  if (!Array.isArray(list)) throw reader.malformed(`${opcodeNames[reader.data[reader.opcodeStart]!]} on a value that is not a list`);
  for (const item of items) {
    reader.noteChild(list, item);
    list.push(item);
  }
}

function reduce(reader: PickleReader, callable: unknown, args: unknown): unknown {
  if (!(callable instanceof AllowedGlobal)) throw reader.malformed('REDUCE of a value that is not a callable global');
  if (!Array.isArray(args)) throw reader.malformed('REDUCE with arguments that are not a tuple');
  const value = callable.create(args, reader);
  if (value instanceof Set) return reader.containerOf(value, [...value]);
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) ? reader.container(value) : value;
}

// --- the opcode table, in pickletools order ---------------------------------------------------

op('(', 'MARK', (r) => r.marks.push(r.stack.length));
op('.', 'STOP', (r) => {
  r.stopped = true;
});
op('0', 'POP', (r) => {
  if (r.marks.length > 0 && r.stack.length === r.marks[r.marks.length - 1])
    r.marks.pop(); // CPython: POP of a bare MARK
  else r.pop();
});
op('1', 'POP_MARK', (r) => void r.popMark());
op('2', 'DUP', (r) => r.push(r.top()));

op('I', 'INT', (r) => {
  const text = r.line();
  if (text === '01')
    r.push(true); // Python 2's protocol 0 booleans
  else if (text === '00') r.push(false);
  else r.push(r.decimal(text, 'INT'));
});
op('J', 'BININT', (r) => r.push(r.int32()));
op('K', 'BININT1', (r) => r.push(r.uint8()));
op('M', 'BININT2', (r) => r.push(r.uint16()));
op('L', 'LONG', (r) => r.push(r.decimal(r.line().replace(/L$/, ''), 'LONG')));
op(0x8a, 'LONG1', (r) => r.push(r.littleEndian(r.take(r.length(1)))));
op(0x8b, 'LONG4', (r) => r.push(r.littleEndian(r.take(r.length(4, true)))));

op('S', 'STRING', (r) => r.push(pythonStringLiteral(r, r.line())));
op('T', 'BINSTRING', (r) => r.push(r.take(r.length(4, true))));
op('U', 'SHORT_BINSTRING', (r) => r.push(r.take(r.length(1))));

op('B', 'BINBYTES', (r) => r.push(r.take(r.length(4))));
op('C', 'SHORT_BINBYTES', (r) => r.push(r.take(r.length(1))));
op(0x8e, 'BINBYTES8', (r) => r.push(r.take(r.length(8))));
op(0x96, 'BYTEARRAY8', (r) => r.push(r.take(r.length(8))));
op(0x97, 'NEXT_BUFFER', (r) => {
  throw r.unsupported('out-of-band buffers (NEXT_BUFFER) are not supported');
});
op(0x98, 'READONLY_BUFFER', (r) => {
  throw r.unsupported('out-of-band buffers (READONLY_BUFFER) are not supported');
});

op('N', 'NONE', (r) => r.push(null));
op(0x88, 'NEWTRUE', (r) => r.push(true));
op(0x89, 'NEWFALSE', (r) => r.push(false));

op('V', 'UNICODE', (r) => r.push(rawUnicodeEscape(r, r.line())));
op(0x8c, 'SHORT_BINUNICODE', (r) => r.push(r.text(r.length(1))));
op('X', 'BINUNICODE', (r) => r.push(r.text(r.length(4))));
op(0x8d, 'BINUNICODE8', (r) => r.push(r.text(r.length(8))));

op('F', 'FLOAT', (r) => r.push(parseFloatText(r, r.line())));
op('G', 'BINFLOAT', (r) => r.push(r.float64()));

op(']', 'EMPTY_LIST', (r) => r.push(r.container([])));
op('a', 'APPEND', (r) => {
  const item = r.pop();
  appendAll(r, r.top(), [item]);
});
op('e', 'APPENDS', (r) => {
  const items = r.popMark();
  appendAll(r, r.top(), items);
});
op('l', 'LIST', (r) => {
  const items = r.popMark();
  r.push(r.containerOf(items, items));
});

op(')', 'EMPTY_TUPLE', (r) => r.push(r.container([])));
op('t', 'TUPLE', (r) => {
  const items = r.popMark();
  r.push(r.containerOf(items, items));
});
op(0x85, 'TUPLE1', (r) => {
  const tuple = [r.pop()];
  r.push(r.containerOf(tuple, tuple));
});
op(0x86, 'TUPLE2', (r) => {
  const second = r.pop();
  const tuple = [r.pop(), second];
  r.push(r.containerOf(tuple, tuple));
});
op(0x87, 'TUPLE3', (r) => {
  const third = r.pop();
  const second = r.pop();
  const tuple = [r.pop(), second, third];
  r.push(r.containerOf(tuple, tuple));
});

op('}', 'EMPTY_DICT', (r) => r.push(r.newDict()));
op('d', 'DICT', (r) => {
  const items = r.popMark();
  const dict = r.newDict();
  itemsToDict(r, dict, items);
  r.push(dict);
});
op('s', 'SETITEM', (r) => {
  const value = r.pop();
  const key = r.pop();
  r.setDictItem(r.top(), key, value);
});
op('u', 'SETITEMS', (r) => {
  const items = r.popMark();
  itemsToDict(r, r.top(), items);
});

op(0x8f, 'EMPTY_SET', (r) => r.push(r.container(new Set())));
op(0x90, 'ADDITEMS', (r) => {
  const items = r.popMark();
  const set = r.top();
  if (!(set instanceof Set)) throw r.malformed('ADDITEMS on a value that is not a set');
  for (const item of items) {
    r.noteChild(set, item);
    set.add(item);
  }
});
op(0x91, 'FROZENSET', (r) => {
  const items = r.popMark();
  r.push(r.containerOf(new Set(items), items));
});

op('g', 'GET', (r) => r.memoGet(r.decimalIndex(r.line())));
op('h', 'BINGET', (r) => r.memoGet(r.uint8()));
op('j', 'LONG_BINGET', (r) => r.memoGet(r.uint32()));
op('p', 'PUT', (r) => r.memoPut(r.decimalIndex(r.line())));
op('q', 'BINPUT', (r) => r.memoPut(r.uint8()));
op('r', 'LONG_BINPUT', (r) => r.memoPut(r.uint32()));
op(0x94, 'MEMOIZE', (r) => r.memoPut(r.memoCount));

op('c', 'GLOBAL', (r) => {
  const module = r.line();
  r.push(r.resolveGlobal(module, r.line()));
});
op(0x93, 'STACK_GLOBAL', (r) => {
  const name = r.pop();
  const module = r.pop();
  if (typeof module !== 'string' || typeof name !== 'string') throw r.malformed('STACK_GLOBAL needs a module name and a name');
  r.push(r.resolveGlobal(module, name));
});
op('R', 'REDUCE', (r) => {
  const args = r.pop();
  const callable = r.pop();
  r.push(reduce(r, callable, args));
});
op('i', 'INST', (r) => {
  const module = r.line();
  r.resolveGlobal(module, r.line());
  throw r.unsupported('INST (making a class instance) is not supported');
});
for (const [code, name] of [
  ['o', 'OBJ'],
  [0x81, 'NEWOBJ'],
  [0x92, 'NEWOBJ_EX'],
  ['b', 'BUILD'],
] as const) {
  op(code, name, (r) => {
    throw r.unsupported(`${name} (making or changing a class instance) is not supported; only plain data is read`);
  });
}
for (const [code, name] of [
  ['P', 'PERSID'],
  ['Q', 'BINPERSID'],
] as const) {
  op(code, name, (r) => {
    throw r.unsupported(`persistent ids (${name}) are not supported`);
  });
}
for (const [code, name] of [
  [0x82, 'EXT1'],
  [0x83, 'EXT2'],
  [0x84, 'EXT4'],
] as const) {
  op(code, name, (r) => {
    throw r.unsupported(`extension codes (${name}) are not supported`);
  });
}

op(0x80, 'PROTO', (r) => {
  const version = r.uint8();
  if (version > highestProtocol) throw r.unsupported(`protocol ${version}; protocols 0 to ${highestProtocol} are read`);
});
op(0x95, 'FRAME', (r) => void r.length(8)); // frames only group opcodes for buffering; the length is checked and skipped

/**
 * Refuses what is not plain data: a global left uncalled, nesting deeper than `maxDepth`, and
 * reference cycles, which no consumer of plain data (JSON output, structured cloning) can
 * handle. Iterative, so hostile depth cannot overflow the stack here, and linear: each container
 * is measured once, however often it is shared.
 */
function checkPlainData(root: unknown, reader: PickleReader, maxDepth: number): void {
  const offsets = reader.containerOffsets;
  const refuseGlobal = (value: unknown) => {
    if (value instanceof AllowedGlobal) {
      throw new PickleError('AI_ERR_PICKLE_UNSUPPORTED', `the global ${value.qualifiedName} itself, not called, is not plain data`, 0);
    }
  };
  refuseGlobal(root);
  const depthOf = new Map<object, number>();
  const onPath = new Set<object>();
  // A container that holds no container (the bulk of the data, usually) is a leaf here.
  const children = (value: object): unknown[] =>
    !reader.holdsContainers.has(value) ? [] : value instanceof Set ? [...value] : Array.isArray(value) ? value : Object.values(value);
  const isContainer = (value: unknown): value is object =>
    typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !(value instanceof AllowedGlobal);
  if (!isContainer(root)) return;
  const work: { node: object; pathLength: number; expanded: boolean }[] = [{ node: root, pathLength: 1, expanded: false }];
  while (work.length > 0) {
    const frame = work[work.length - 1]!;
    if (!frame.expanded && depthOf.has(frame.node)) {
      work.pop(); // shared, and measured already through another parent
      continue;
    }
    if (!frame.expanded) {
      if (frame.pathLength > maxDepth) {
        throw new PickleError('AI_ERR_PICKLE_MALFORMED', `data nests deeper than ${plural(maxDepth, 'level')}`, offsets.get(frame.node) ?? 0);
      }
      frame.expanded = true;
      onPath.add(frame.node);
      for (const child of children(frame.node)) {
        refuseGlobal(child);
        if (!isContainer(child) || depthOf.has(child)) continue;
        if (onPath.has(child))
          throw new PickleError('AI_ERR_PICKLE_UNSUPPORTED', 'a reference cycle (a container that holds itself) is not plain data', offsets.get(child) ?? 0);
        work.push({ node: child, pathLength: frame.pathLength + 1, expanded: false });
      }
      continue;
    }
    work.pop();
    onPath.delete(frame.node);
    let deepest = 0;
    for (const child of children(frame.node)) if (isContainer(child)) deepest = Math.max(deepest, depthOf.get(child) ?? 0);
    if (deepest + 1 + frame.pathLength - 1 > maxDepth) {
      throw new PickleError('AI_ERR_PICKLE_MALFORMED', `data nests deeper than ${plural(maxDepth, 'level')}`, offsets.get(frame.node) ?? 0);
    }
    depthOf.set(frame.node, deepest + 1);
  }
}
