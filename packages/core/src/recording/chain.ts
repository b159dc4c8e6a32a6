import { createHash } from 'node:crypto';
import { GENESIS_HASH, type RecordingRecord, type SessionHeaderRecord, type UnchainedRecord } from './records';

// A line is `{...record, "prev": "<hash of the previous line>", "hash": "<this line's hash>"}`, where
// hash = SHA-256(prev + body) and body is the line's exact text up to the hash member, closed with
// `}`. Hashing the bytes (not a re-serialisation) makes any change to a line detectable, even one
// that keeps the JSON equivalent; `prev` links each line to the one before, so a removed, inserted
// or reordered line breaks the chain at that point.
const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Serialises one record as a chained line (with the trailing newline) and returns its hash. */
export function sealRecord(prev: string, seq: number, record: UnchainedRecord): { readonly line: string; readonly hash: string } {
  const body = JSON.stringify({ seq, ...record, prev });
  const hash = sha256(prev + body);
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}\n`, hash };
}

export interface ChainProblem {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly message: string;
}

export interface VerifyResult {
  /** Every line is intact and chained to the one before. */
  readonly intact: boolean;
  /** Intact and ends with the session's `end` record (a live or crashed session has none). */
  readonly complete: boolean;
  readonly records: number;
  readonly problems: readonly ChainProblem[];
  readonly header?: SessionHeaderRecord;
  /** Hash of the last intact line: compare it with a copy kept elsewhere to detect a rewrite. */
  readonly lastHash: string;
}

/**
 * Checks a recording's lines: each line's hash, the link to the line before, line numbering, the
 * header first and at most one `end` record, last. Stops listing problems after the first few; the
 * first one is where the tampering (or crash) is.
 */
export function verifyLines(lines: readonly string[], maxProblems = 10): VerifyResult {
  const problems: ChainProblem[] = [];
  let prev = GENESIS_HASH;
  let header: SessionHeaderRecord | undefined;
  let ended = false;
  let records = 0;
  let expectedSeq = 0;
  const problem = (line: number, message: string): void => { if (problems.length < maxProblems) problems.push({ line, message }); };
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const lineNo = i + 1;
    if (text === '' && i === lines.length - 1) break;
    records++;
    const m = HASH_SUFFIX.exec(text);
    if (!m) { problem(lineNo, 'not a sealed record (no trailing hash: cut short or edited)'); prev = ''; expectedSeq++; continue; }
    const body = `${text.slice(0, m.index)}}`;
    let record: RecordingRecord & { prev?: unknown; seq?: unknown };
    try {
      record = JSON.parse(body) as RecordingRecord;
    } catch {
      problem(lineNo, 'not valid JSON');
      prev = m[1]!;
      expectedSeq++;
      continue;
    }
    if (record.prev !== prev) {
      problem(lineNo, i === 0 ? 'first line does not start the chain' : 'does not follow the previous line (a line was removed, inserted or reordered)');
    }
    if (sha256(String(record.prev) + body) !== m[1]) problem(lineNo, 'hash mismatch (the line was changed)');
    if (record.seq !== expectedSeq) problem(lineNo, `sequence number ${String(record.seq)} where ${expectedSeq} was expected`);
    // Re-synchronised so one removed line is one problem, not one per line after it.
    expectedSeq = typeof record.seq === 'number' ? record.seq + 1 : expectedSeq + 1;
    if (i === 0) {
      if (record.type !== 'session') problem(lineNo, 'the first line is not the session header');
      else header = record;
    } else if (record.type === 'session') {
      problem(lineNo, 'a second session header');
    }
    if (ended) problem(lineNo, 'a record after the end record');
    if (record.type === 'end') ended = true;
    prev = m[1]!;
  }
  if (records === 0) problem(1, 'empty recording');
  const intact = problems.length === 0;
  return { intact, complete: intact && ended, records, problems, header, lastHash: prev };
}
