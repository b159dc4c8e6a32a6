/** What the order check found for one session. */
export interface SessionReport {
  readonly events: number;
  readonly lastSeq: number;
  /** Missing seq ranges, e.g. `4-6`. */
  readonly gaps: readonly string[];
  /** Events whose seq was not greater than the one before (out of order or a duplicate seq). */
  readonly outOfOrder: number;
  /** Events whose id was seen before (at-least-once redelivery). */
  readonly duplicates: number;
}

interface SessionState {
  events: number;
  lastSeq: number;
  gaps: string[];
  outOfOrder: number;
  duplicates: number;
  ids: Set<string>;
}

/**
 * Per-session sequence checks. querygate numbers each session's events 1, 2, 3... and keys Kafka
 * records by session, so one partition carries a whole session in order: any gap or step back is
 * a real finding. seq 0 (an event reported outside a live session) is counted, not ordered or deduped.
 */
export class SessionOrder {
  private readonly sessions = new Map<string, SessionState>();

  /** Returns a finding for this event, if any. */
  add(sessionId: string, seq: number, id: string): string | undefined {
    let s = this.sessions.get(sessionId);
    if (s === undefined) {
      s = { events: 0, lastSeq: 0, gaps: [], outOfOrder: 0, duplicates: 0, ids: new Set() };
      this.sessions.set(sessionId, s);
    }
    s.events++;
    // seq 0 marks events reported outside a live session; they share the id `${sessionId}:0`.
    if (seq === 0) return undefined;
    if (s.ids.has(id)) {
      s.duplicates++;
      return `duplicate ${id}`;
    }
    s.ids.add(id);
    if (seq <= s.lastSeq) {
      s.outOfOrder++;
      return `session ${sessionId}: seq ${seq} after ${s.lastSeq}`;
    }
    let finding: string | undefined;
    if (seq > s.lastSeq + 1) {
      const gap = seq === s.lastSeq + 2 ? `${s.lastSeq + 1}` : `${s.lastSeq + 1}-${seq - 1}`;
      s.gaps.push(gap);
      finding = `session ${sessionId}: missing seq ${gap}`;
    }
    s.lastSeq = seq;
    return finding;
  }

  report(): Map<string, SessionReport> {
    const out = new Map<string, SessionReport>();
    for (const [id, s] of this.sessions) {
      out.set(id, { events: s.events, lastSeq: s.lastSeq, gaps: [...s.gaps], outOfOrder: s.outOfOrder, duplicates: s.duplicates });
    }
    return out;
  }
}
