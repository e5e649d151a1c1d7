// Node logs: nginx-style lines with a level and a subsystem prefix ([clustering], [admin]), filtered by log_level.
import { createWriteStream, type WriteStream } from 'node:fs';
import { LOG_LEVELS } from '../config/keys.js';

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogSink {
  write(line: string): void;
}

export class Logger {
  private threshold: number;

  constructor(
    level: LogLevel,
    private readonly sinks: LogSink[],
    private readonly subsystem?: string,
    private readonly shared: { threshold: number } = { threshold: LOG_LEVELS.indexOf(level) },
  ) {
    this.threshold = shared.threshold;
  }

  /** A logger for one subsystem; it shares sinks and level with its parent (a reload changes both). */
  child(subsystem: string): Logger {
    return new Logger(LOG_LEVELS[this.shared.threshold]!, this.sinks, subsystem, this.shared);
  }

  setLevel(level: LogLevel): void {
    this.shared.threshold = LOG_LEVELS.indexOf(level);
  }

  enabled(level: LogLevel): boolean {
    this.threshold = this.shared.threshold;
    return LOG_LEVELS.indexOf(level) >= this.threshold;
  }

  debug = (message: string): void => this.log('debug', message);
  info = (message: string): void => this.log('info', message);
  notice = (message: string): void => this.log('notice', message);
  warn = (message: string): void => this.log('warn', message);
  error = (message: string): void => this.log('error', message);
  crit = (message: string): void => this.log('crit', message);

  log(level: LogLevel, message: string): void {
    if (!this.enabled(level)) return;
    const line = formatLogLine(new Date(), level, process.pid, this.subsystem, message);
    for (const sink of this.sinks) sink.write(line);
  }
}

/** `2026/11/26 09:15:33 [notice] 1234#0: [clustering] message` — the shape Kong operators grep for. */
export function formatLogLine(
  at: Date,
  level: LogLevel,
  pid: number,
  subsystem: string | undefined,
  message: string,
): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getUTCFullYear()}/${pad(at.getUTCMonth() + 1)}/${pad(at.getUTCDate())} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`;
  const tag = subsystem ? `[${subsystem}] ` : '';
  return `${stamp} [${level}] ${pid}#0: ${tag}${message}\n`;
}

/** Appends to a log file; the stream is kept open for the node's life. */
export function fileSink(path: string): LogSink & { close(): Promise<void> } {
  const stream: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o644 });
  return {
    write: (line) => void stream.write(line),
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}

export const stderrSink: LogSink = { write: (line) => void process.stderr.write(line) };
