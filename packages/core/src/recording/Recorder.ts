import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../Logger';
import type { Session } from '../Session';
import type { StatementTextMode } from './records';
import { SessionRecording } from './SessionRecording';

export interface RecorderOptions {
  readonly dir: string;
  readonly gatewayId: string;
  readonly maxRowsPerResult: number;
  readonly statementText: StatementTextMode;
  readonly logger: Logger;
}

/** File name of a session's recording: the session id, made safe for a path. */
export function recordingFileName(sessionId: string): string {
  return `${sessionId.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`;
}

/**
 * Opens one recording per session under `recording.dir` and keeps the counts `/metrics` shows.
 * The gateway core wires it in (it is not a plugin), so recording sees what the client saw after
 * every plugin's masks.
 */
export class Recorder {
  private readonly open = new Set<SessionRecording>();
  bytesWritten = 0;
  errors = 0;
  opened = 0;

  constructor(readonly options: RecorderOptions) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  }

  get dir(): string { return this.options.dir; }
  get active(): number { return this.open.size; }

  start(session: Session): SessionRecording | undefined {
    try {
      const recording = new SessionRecording(session, {
        file: join(this.options.dir, recordingFileName(session.id)),
        gatewayId: this.options.gatewayId,
        statementText: this.options.statementText,
        maxRowsPerResult: this.options.maxRowsPerResult,
        logger: this.options.logger,
        onBytes: (bytes) => { this.bytesWritten += bytes; },
        onError: () => { this.errors++; },
        onClose: (r) => { this.open.delete(r); },
      });
      this.open.add(recording);
      this.opened++;
      return recording;
    } catch (err) {
      this.errors++;
      this.options.logger.error('could not start a recording', { sessionId: session.id, error: (err as Error).message });
      return undefined;
    }
  }

  /** Closes recordings whose sessions did not end (normally none: sessions end first). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.open].map((r) => r.end({ reason: 'shutdown', statements: 0, denied: 0, durationMs: Date.now() - r.session.startedAt.getTime() })));
  }
}
