import type { LogFields, Logger, LogLevel } from '../Logger';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One JSON object per line on a stream (stderr by default, keeping stdout for audit output). */
export class JsonLogger implements Logger {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly fields: LogFields = {},
    private readonly write: (line: string) => void = (line) => { process.stderr.write(line); },
  ) {}

  private log(level: LogLevel, message: string, fields?: LogFields): void {
    if (RANK[level] < RANK[this.level]) return;
    const record = { time: new Date().toISOString(), level, msg: message, ...this.fields, ...fields };
    this.write(JSON.stringify(record) + '\n');
  }

  debug(message: string, fields?: LogFields): void { this.log('debug', message, fields); }
  info(message: string, fields?: LogFields): void { this.log('info', message, fields); }
  warn(message: string, fields?: LogFields): void { this.log('warn', message, fields); }
  error(message: string, fields?: LogFields): void { this.log('error', message, fields); }
  child(fields: LogFields): Logger { return new JsonLogger(this.level, { ...this.fields, ...fields }, this.write); }
}

/** Drops everything; for tests and embedding. */
export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
  child() { return silentLogger; },
};
