import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { verifyLines, type VerifyResult } from './chain';
import type { EndRecord, RecordingRecord, SessionHeaderRecord } from './records';
import { recordingFileName } from './Recorder';

/** One line of `querygate sessions list` / `GET /api/sessions`. */
export interface RecordingSummary {
  readonly id: string;
  readonly file: string;
  readonly bytes: number;
  readonly startedAt: string;
  readonly protocol: string;
  readonly listener: string;
  readonly database: string;
  readonly subject: string;
  readonly clientAddress: string;
  /** False while the session runs, or when it crashed before its end record. */
  readonly ended: boolean;
  readonly endReason?: EndRecord['reason'];
  readonly statements?: number;
  readonly denied?: number;
  readonly durationMs?: number;
}

export interface Recording {
  readonly header: SessionHeaderRecord;
  readonly records: readonly RecordingRecord[];
}

const HEAD_BYTES = 64 * 1024;
const TAIL_BYTES = 16 * 1024;

/** Thrown for a session id that has no recording (or is not a plain id). */
export class RecordingNotFound extends Error {
  constructor(readonly id: string) {
    super(`no recording for session "${id}"`);
    this.name = 'RecordingNotFound';
  }
}

/** Reads the recordings under one directory: list, read, verify. Never writes. */
export class RecordingStore {
  constructor(readonly dir: string) {}

  /** The file of a session's recording; rejects ids that would leave the directory. */
  fileOf(id: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(id) || id.startsWith('.')) throw new RecordingNotFound(id);
    return join(this.dir, recordingFileName(id));
  }

  /** Every recording's summary, newest first. Unreadable files are skipped. */
  async list(): Promise<RecordingSummary[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const summaries = await Promise.all(names.filter((n) => n.endsWith('.jsonl')).map((n) => this.summary(join(this.dir, n)).catch(() => undefined)));
    return summaries.filter((s): s is RecordingSummary => s !== undefined).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** The ids of every recording (file names), for `verify --all`. */
  async ids(): Promise<string[]> {
    try {
      return (await fs.readdir(this.dir)).filter((n) => n.endsWith('.jsonl')).map((n) => n.slice(0, -'.jsonl'.length)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private async summary(file: string): Promise<RecordingSummary | undefined> {
    const handle = await fs.open(file, 'r');
    try {
      const { size } = await handle.stat();
      const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
      await handle.read(head, 0, head.length, 0);
      const newline = head.indexOf(0x0a);
      const header = JSON.parse(head.subarray(0, newline < 0 ? head.length : newline).toString('utf8')) as SessionHeaderRecord;
      if (header.type !== 'session') return undefined;
      const tailLength = Math.min(size, TAIL_BYTES);
      const tail = Buffer.alloc(tailLength);
      await handle.read(tail, 0, tailLength, size - tailLength);
      const lines = tail.toString('utf8').split('\n').filter((l) => l !== '');
      let end: EndRecord | undefined;
      const last = lines[lines.length - 1];
      if (last) {
        try {
          const record = JSON.parse(last) as RecordingRecord;
          if (record.type === 'end') end = record;
        } catch { /* a line cut short by a crash: not ended */ }
      }
      return {
        id: header.sessionId,
        file,
        bytes: size,
        startedAt: header.startedAt,
        protocol: header.protocol,
        listener: header.listener,
        database: header.database,
        subject: header.identity.subject,
        clientAddress: header.clientAddress,
        ended: end !== undefined,
        ...(end ? { endReason: end.reason, statements: end.statements, denied: end.denied, durationMs: end.durationMs } : {}),
      };
    } finally {
      await handle.close();
    }
  }

  private async lines(id: string): Promise<string[]> {
    let text: string;
    try {
      text = await fs.readFile(this.fileOf(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RecordingNotFound(id);
      throw err;
    }
    return text.split('\n');
  }

  /** Every record of a recording, in order (unverified: call `verify` for that). */
  async read(id: string): Promise<Recording> {
    const records: RecordingRecord[] = [];
    for (const line of await this.lines(id)) {
      if (line === '') continue;
      try {
        records.push(JSON.parse(line) as RecordingRecord);
      } catch { /* a line cut short by a crash; verify reports it */ }
    }
    const header = records[0];
    if (!header || header.type !== 'session') throw new RecordingNotFound(id);
    return { header, records };
  }

  async verify(id: string): Promise<VerifyResult> {
    return verifyLines(await this.lines(id));
  }
}
