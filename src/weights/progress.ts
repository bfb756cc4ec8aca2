import type { Writable } from 'node:stream';
import type { Logger } from '../types.js';

/** Where progress goes: the log, the mode's start-up report (Cog's setup logs), and a bar on an interactive terminal. */
export interface ProgressSinks {
  log: Logger;
  report?: (line: string) => void;
  /** stderr, when it is a terminal and the log is text: the bar is drawn there. */
  terminal?: Writable;
}

/**
 * The progress of one file: a line at the start and at the end; between them, on a terminal, a bar
 * redrawn in place at most 10 times a second, and elsewhere a line every tenth (the report always
 * gets the tenths: Cog's setup logs and the readiness reason show them).
 */
export class FileProgress {
  private size: number | undefined;
  private bytes = 0;
  private startedAt = performance.now();
  private startBytes = 0;
  private lastTenth = -1;
  private lastDraw = 0;
  /** Whether the cursor is at the end of a drawn bar: a line written now must clear it first. */
  private barShown = false;
  private barEnded = false;

  constructor(
    private readonly name: string,
    private readonly sinks: ProgressSinks,
  ) {}

  start(source: string, size: number | undefined, resumedBytes: number): void {
    this.size = size;
    this.bytes = resumedBytes;
    this.startBytes = resumedBytes;
    this.startedAt = performance.now();
    const of = size === undefined ? 'size unknown' : formatBytes(size);
    const resumed = resumedBytes > 0 ? `, resuming after ${formatBytes(resumedBytes)}` : '';
    this.line(`weights: fetching ${this.name} from ${source} (${of}${resumed})`);
    this.lastTenth = size ? Math.floor((resumedBytes / size) * 10) : 0;
    if (this.sinks.terminal) this.draw();
  }

  advance(bytes: number): void {
    this.bytes += bytes;
    const { size } = this;
    if (size) {
      const tenth = Math.floor((this.bytes / size) * 10);
      if (tenth > this.lastTenth && tenth < 10) {
        this.lastTenth = tenth;
        const text = `weights: ${this.name} ${tenth * 10}% (${formatBytes(this.bytes)} of ${formatBytes(size)}, ${this.rate()})`;
        // On a terminal the bar shows the tenths; a line each would break it up.
        if (this.sinks.terminal) this.sinks.report?.(text);
        else this.line(text);
      }
    }
    if (!this.sinks.terminal || this.barEnded) return;
    // Every byte in: the bar is drawn whole and left on its own line, before the check that may still refuse the file.
    if (size !== undefined && this.bytes >= size) this.endBar();
    else if (performance.now() - this.lastDraw >= 100) this.draw();
  }

  /** A line said between the progress lines (a retry). */
  note(message: string): void {
    this.line(`weights: ${this.name}: ${message}`);
  }

  finish(message: string): void {
    this.endBar();
    this.line(`weights: ${this.name} ${message} (${formatBytes(this.bytes)} in ${((performance.now() - this.startedAt) / 1000).toFixed(1)} s, ${this.rate()})`);
  }

  private rate(): string {
    const seconds = (performance.now() - this.startedAt) / 1000;
    return `${formatBytes(seconds > 0 ? (this.bytes - this.startBytes) / seconds : 0)}/s`;
  }

  /** Draws the bar a last time and moves below it, so that it stays on screen above what follows (an error, the next file). */
  endBar(): void {
    if (!this.sinks.terminal || this.barEnded) return;
    this.draw();
    this.sinks.terminal.write('\n');
    this.barShown = false;
    this.barEnded = true;
  }

  private draw(): void {
    const { size } = this;
    const width = 30;
    const filled = size ? Math.round((this.bytes / size) * width) : 0;
    const bar = size ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor((this.bytes / size) * 100)}%` : formatBytes(this.bytes);
    this.sinks.terminal?.write(`\r\x1b[K${this.name} ${bar} ${this.rate()}`);
    this.barShown = true;
    this.lastDraw = performance.now();
  }

  private line(text: string): void {
    // The bar's line is cleared first, so that the log line stands on its own; the next draw puts it back below.
    if (this.barShown) {
      this.sinks.terminal?.write('\r\x1b[K');
      this.barShown = false;
    }
    this.sinks.log.info(text);
    this.sinks.report?.(text);
  }
}

/** Bytes as people read them: 1.0 GB, 200 MB, 512 B (decimal units, as download tools show them). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
