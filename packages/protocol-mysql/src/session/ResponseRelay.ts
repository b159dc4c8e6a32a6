import type { GatewaySession, ResultColumn, RowTransform, ServerError, Statement, StatementRun } from '@querygate/core';
import { GatewayError } from '@querygate/core';
import { valueTypeOf } from '../codec/binaryValues';
import { columnTypeNameOf, Header, MAX_PACKET_PAYLOAD, ServerStatus } from '../codec/constants';
import type { ColumnDefinition, ErrPacket, Packet, StmtPrepareOk } from '../codec/messages';
import { PacketFramer } from '../codec/PacketFramer';
import { affectedRowsOf, parseColumnDefinition, parseErr, parseStmtPrepareOk, statusOf } from '../codec/parser';
import { errPacket, frame, packetCount } from '../codec/serializer';
import { RowRewriter } from './RowRewriter';

/** Which response layout follows the command that was sent upstream. */
export type ResponseKind = 'query' | 'execute' | 'fetch' | 'prepare' | 'fieldList' | 'single';

/** A plan settled for a result set, remembered for cursor fetches. */
export interface ResultPlan {
  readonly columns: readonly ColumnDefinition[];
  readonly transform: RowTransform | undefined;
  /** The result set's rewriter, shared by the cursor's fetches (it counts the rows observed). */
  readonly rewriter?: RowRewriter;
}

export interface ResponseRequest {
  readonly kind: ResponseKind;
  /** The statements results belong to, in order (the last one takes any extra results, e.g. CALL). */
  readonly statements: readonly Statement[];
  readonly run: StatementRun;
  /** Report `complete` per statement. */
  readonly report: boolean;
  /** Internal command: the response is handed here and never reaches the client. */
  readonly capture?: (payload: Buffer) => void;
  readonly onPrepareOk?: (ok: StmtPrepareOk) => void;
  /** Execute that opened a cursor: the plan its fetches must use. */
  readonly onCursor?: (plan: ResultPlan) => void;
  /** For COM_STMT_FETCH: the plan of the cursor's result set. */
  readonly cursorPlan?: ResultPlan;
}

/** What the relay needs from its session. */
export interface RelayHost {
  readonly deprecateEof: boolean;
  readonly gatewaySession: GatewaySession;
  writeClient(bytes: Buffer): void;
  writeUpstream(bytes: Buffer): void;
  pauseUpstream(): void;
  resumeUpstream(): void;
  /** The response is complete: the next client command may run. */
  responseDone(): void;
  /** A result hook failed: the session logs it. */
  hookFailed(error: GatewayError): void;
}

const enum State {
  Idle,
  First,
  ColumnDefs,
  ColumnsEof,
  Rows,
  PrepareParams,
  PrepareParamsEof,
  PrepareColumns,
  PrepareColumnsEof,
  Fields,
  Single,
  /** A result hook failed: the ERR was sent; the rest of the response is dropped. */
  Discard,
}

/**
 * Follows one command's response from the upstream to the client. Without result hooks it only
 * reads the first bytes of each packet to know where the response ends, and forwards the bytes
 * that arrived in one write per chunk. With result hooks (query / execute / fetch) it decodes the
 * column definitions, asks the pipeline for a plan, and rewrites rows when there is one,
 * re-framing them with fresh lengths and sequence ids.
 */
export class ResponseRelay {
  private req: ResponseRequest | undefined;
  private state = State.Idle;
  private inspect = false;
  private started = 0;
  // Passthrough framing.
  private tail: Buffer | undefined;
  private continuation = false;
  // Inspect framing and output.
  private readonly framer = new PacketFramer(1 << 30);
  private out: Buffer[] = [];
  private outSeq = 1;
  /** Packets waiting for a result plan: as they arrived, or payloads to frame (rewritten, refusals). */
  private held: (Packet | Buffer)[] = [];
  private suspended = false;
  // Result bookkeeping.
  private columnsLeft = 0;
  private columns: ColumnDefinition[] = [];
  private rewriter: RowRewriter | undefined;
  private binaryRows = false;
  private statementIndex = 0;
  private rows = 0;
  private maskedValues = 0;
  private readonly maskedColumns = new Set<string>();
  private prepare: StmtPrepareOk | undefined;
  private ended = false;
  // The last result set's column definitions (bytes and decoded) and the columns shown to hooks.
  private readonly shape: { readonly bytes: Buffer; readonly definition: ColumnDefinition }[] = [];
  private shapeChanged = true;
  private shapeColumns: readonly ResultColumn[] | undefined;
  /**
   * Status flags of the last OK / EOF the upstream sent: the session's state as the server sees it
   * (the adapter reads NO_BACKSLASH_ESCAPES from it to split the next statement the server's way).
   */
  serverStatus = 0;

  constructor(private readonly host: RelayHost) {}

  get busy(): boolean { return this.req !== undefined; }

  begin(req: ResponseRequest): void {
    this.req = req;
    this.started = Date.now();
    this.ended = false;
    this.statementIndex = 0;
    this.rows = 0;
    this.maskedValues = 0;
    this.maskedColumns.clear();
    this.outSeq = 1;
    this.binaryRows = req.kind === 'execute' || req.kind === 'fetch';
    this.inspect = req.capture === undefined && this.host.gatewaySession.hasResultHooks &&
      (req.kind === 'query' || req.kind === 'execute' || req.kind === 'fetch');
    switch (req.kind) {
      case 'fetch':
        this.state = State.Rows;
        this.setPlan(req.cursorPlan?.columns ?? [], req.cursorPlan?.transform, req.cursorPlan?.rewriter);
        break;
      case 'fieldList': this.state = State.Fields; break;
      case 'single': this.state = State.Single; break;
      default: this.state = State.First;
    }
  }

  /** Bytes from the upstream. */
  onData(chunk: Buffer): void {
    if (this.inspect || this.suspended) {
      this.framer.push(chunk);
      this.pumpInspect();
      return;
    }
    this.passthrough(chunk);
  }

  // ---- passthrough: forward the bytes as they arrived, reading packet heads only ----

  private passthrough(chunk: Buffer): void {
    let buf = chunk;
    if (this.tail) {
      buf = Buffer.concat([this.tail, chunk]);
      this.tail = undefined;
    }
    let pos = 0;
    let flushFrom = 0;
    while (buf.length - pos >= 4) {
      const len = buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16);
      const end = pos + 4 + len;
      if (end > buf.length) break;
      if (this.req === undefined || this.continuation) {
        // Unsolicited packets (an ERR before a disconnect) and continuations pass as they are.
        this.continuation = this.req !== undefined && len === MAX_PACKET_PAYLOAD;
        pos = end;
        continue;
      }
      this.continuation = len === MAX_PACKET_PAYLOAD;
      const skip = this.step(buf.subarray(pos + 4, end), buf[pos + 3]!);
      if (skip) {
        if (pos > flushFrom) this.host.writeClient(buf.subarray(flushFrom, pos));
        flushFrom = end;
        if (this.replacement) {
          this.host.writeClient(this.replacement);
          this.replacement = undefined;
        }
      }
      pos = end;
      if (this.ended) {
        if (pos > flushFrom) this.host.writeClient(buf.subarray(flushFrom, pos));
        flushFrom = pos;
        this.finish();
        if (this.inspect) {
          // The next response is already being inspected: hand it the rest.
          if (pos < buf.length) this.onData(buf.subarray(pos));
          return;
        }
      }
    }
    if (pos > flushFrom) this.host.writeClient(buf.subarray(flushFrom, pos));
    if (pos < buf.length) this.tail = Buffer.from(buf.subarray(pos));
  }

  // ---- inspect: logical packets, held column definitions, rewritten rows ----

  private pumpInspect(): void {
    while (!this.suspended) {
      const packet = this.framer.next();
      if (!packet) break;
      if (this.req === undefined) {
        this.out.push(packet.raw);
        continue;
      }
      const skip = this.step(packet.payload, packet.seq);
      if (!skip && this.state !== State.Discard) this.emitUnlessHeld(packet);
      if (this.ended) {
        this.flushOut();
        const rest = this.framer.drain();
        this.finish();
        if (rest.length > 0) this.onData(rest);
        return;
      }
    }
    this.flushOut();
  }

  private emitUnlessHeld(packet: Packet | Buffer): void {
    if (this.holding) { this.held.push(packet); return; }
    this.emit(packet);
  }

  private holding = false;

  /**
   * Queues one packet for the client. A packet that arrived with the sequence id it must leave with
   * goes out as the bytes that arrived (adjacent ones as one view); only a payload querygate built
   * or rewrote, or one whose number changed (a packet was dropped or added before it), is framed anew.
   */
  private emit(packet: Packet | Buffer): void {
    if (Buffer.isBuffer(packet)) {
      this.out.push(frame(packet, this.outSeq));
      this.outSeq += packetCount(packet.length);
      return;
    }
    if (packet.seq !== (this.outSeq & 0xff)) {
      this.emit(packet.payload);
      return;
    }
    this.outSeq += ((packet.lastSeq - packet.seq) & 0xff) + 1;
    const raw = packet.raw;
    const last = this.out.length > 0 ? this.out[this.out.length - 1]! : undefined;
    if (last !== undefined && last.buffer === raw.buffer && last.byteOffset + last.length === raw.byteOffset) {
      // Views of adjacent bytes: one view covering both is the same bytes, without a copy.
      this.out[this.out.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + raw.length);
    } else {
      this.out.push(raw);
    }
  }

  private flushOut(): void {
    if (this.out.length === 0) return;
    const bytes = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.host.writeClient(bytes);
  }

  // ---- the response state machine, shared by both modes ----

  /** Advances over one packet (its first physical piece in passthrough). True: do not forward it. */
  private step(payload: Buffer, seq: number): boolean {
    const req = this.req!;
    if (req.capture) {
      if (payload[0] === Header.OK) this.serverStatus = statusOf(payload);
      req.capture(payload);
      this.ended = true;
      return true;
    }
    const head = payload[0];
    switch (this.state) {
      case State.Single:
        if (head === Header.OK) this.serverStatus = statusOf(payload);
        this.ended = true;
        return head === Header.ERR ? this.relayErr(payload, seq).replaced : false;
      case State.First:
        if (head === Header.OK) {
          if (req.kind === 'prepare') return this.prepareOk(payload);
          this.rows = affectedRowsOf(payload);
          this.resultEnd(statusOf(payload));
          return false;
        }
        if (head === Header.ERR) return this.failed(payload, seq);
        if (head === Header.LOCAL_INFILE) {
          // Never offered, so a server should not ask; answer with an empty file and hide it.
          this.host.writeUpstream(frame(Buffer.alloc(0), seq + 1));
          return true;
        }
        this.columnsLeft = lenencHead(payload);
        this.columns = [];
        this.shapeChanged = this.columnsLeft !== this.shape.length;
        if (this.shape.length > this.columnsLeft) this.shape.length = this.columnsLeft;
        this.state = State.ColumnDefs;
        if (this.inspect) this.holding = true;
        return false;
      case State.ColumnDefs:
        if (this.inspect) this.columns.push(this.columnDefinition(this.columns.length, payload));
        if (--this.columnsLeft === 0) {
          if (this.host.deprecateEof) this.columnsDone(0);
          else this.state = State.ColumnsEof;
        }
        return false;
      case State.ColumnsEof:
        if (head === Header.ERR) return this.failed(payload, seq);
        this.columnsDone(statusOf(payload));
        return false;
      case State.Rows:
        if (head === Header.ERR) return this.failed(payload, seq);
        if (head === Header.EOF && payload.length < MAX_PACKET_PAYLOAD && (this.host.deprecateEof || payload.length < 9)) {
          this.resultEnd(statusOf(payload));
          return false;
        }
        this.rows++;
        if (this.rewriter && !this.rewriter.idle) {
          const { payload: out, rewritten } = this.rewriter.rewrite(payload);
          this.maskedValues += rewritten;
          if (out === payload) return false;
          // Rewritten here and emitted; the caller must not emit the original.
          this.emitUnlessHeld(out);
          return true;
        }
        return false;
      case State.PrepareParams:
        if (--this.columnsLeft === 0) this.state = this.host.deprecateEof ? this.afterPrepareParams() : State.PrepareParamsEof;
        return false;
      case State.PrepareParamsEof:
        this.state = this.afterPrepareParams();
        return false;
      case State.PrepareColumns:
        if (--this.columnsLeft === 0) {
          if (this.host.deprecateEof) this.ended = true;
          else this.state = State.PrepareColumnsEof;
        }
        return false;
      case State.PrepareColumnsEof:
        this.ended = true;
        return false;
      case State.Fields:
        if (head === Header.ERR) {
          this.ended = true;
          return this.relayErr(payload, seq).replaced;
        }
        if (head === Header.EOF && payload.length < MAX_PACKET_PAYLOAD) this.ended = true;
        return false;
      case State.Discard:
        if (head === Header.ERR) { this.ended = true; return true; }
        if (this.discardEnds(payload)) this.ended = true;
        return true;
      default:
        return false;
    }
  }

  private discardDepth: State = State.First;

  /** While discarding, follows the remaining layout just enough to find the end. */
  private discardEnds(payload: Buffer): boolean {
    const head = payload[0];
    switch (this.discardDepth) {
      case State.Rows:
        if (head === Header.EOF && payload.length < MAX_PACKET_PAYLOAD && (this.host.deprecateEof || payload.length < 9)) {
          if ((statusOf(payload) & ServerStatus.MORE_RESULTS_EXISTS) === 0) return true;
          this.discardDepth = State.First;
        }
        return false;
      case State.ColumnDefs:
        if (--this.columnsLeft === 0) this.discardDepth = this.host.deprecateEof ? State.Rows : State.ColumnsEof;
        return false;
      case State.ColumnsEof:
        this.discardDepth = State.Rows;
        return false;
      default:
        if (head === Header.OK) return (statusOf(payload) & ServerStatus.MORE_RESULTS_EXISTS) === 0;
        this.columnsLeft = lenencHead(payload);
        this.discardDepth = State.ColumnDefs;
        return false;
    }
  }

  private prepareOk(payload: Buffer): boolean {
    const ok = parseStmtPrepareOk(payload);
    this.prepare = ok;
    this.req!.onPrepareOk?.(ok);
    if (ok.params > 0) {
      this.columnsLeft = ok.params;
      this.state = State.PrepareParams;
    } else {
      this.state = this.afterPrepareParams();
    }
    return false;
  }

  private afterPrepareParams(): State {
    const cols = this.prepare?.columns ?? 0;
    if (cols === 0) {
      this.ended = true;
      return State.Idle;
    }
    this.columnsLeft = cols;
    return State.PrepareColumns;
  }

  /** All column definitions are in (and the EOF after them, if any): plan the result set. */
  private columnsDone(status: number): void {
    const req = this.req!;
    this.state = State.Rows;
    this.rows = 0;
    const cursor = req.kind === 'execute' && (status & ServerStatus.CURSOR_EXISTS) !== 0;
    if (!this.inspect) {
      if (cursor) this.resultEnd(status);
      return;
    }
    const statement = this.currentStatement();
    const format = this.binaryRows ? 'binary' as const : 'text' as const;
    let columns = this.shapeColumns;
    if (this.shapeChanged || columns === undefined || columns.length !== this.columns.length || columns[0]?.format !== format) {
      columns = Object.freeze(this.columns.map((c): ResultColumn => Object.freeze({
        name: c.name,
        origin: c.orgTable !== '' && c.orgName !== '' ? Object.freeze({ schema: c.schema || undefined, table: c.orgTable, column: c.orgName }) : undefined,
        type: columnTypeNameOf(c),
        typeId: c.type,
        format,
      })));
      this.shapeColumns = columns;
    }
    const settle = (transform: RowTransform | undefined): void => {
      this.setPlan(this.columns, transform);
      if (cursor) req.onCursor?.({ columns: this.columns, transform, rewriter: this.rewriter });
      this.holding = false;
      const held = this.held;
      this.held = [];
      for (const p of held) this.emit(p);
      if (cursor) this.resultEnd(status);
    };
    const refuse = (err: unknown): void => {
      const error = GatewayError.from(err, 'QG_HOOK_FAILED');
      this.host.hookFailed(error);
      this.holding = false;
      this.held = [];
      this.emit(errPacket({ errno: error.mysqlErrno, sqlState: error.mysqlSqlState, message: error.message }));
      this.completeCurrent({ code: error.code, message: error.message });
      this.statementIndex = Number.MAX_SAFE_INTEGER;
      this.discardDepth = State.Rows;
      this.state = State.Discard;
      if (cursor) this.ended = true;
    };
    if (statement === undefined) { settle(undefined); return; }
    let plan: RowTransform | undefined | Promise<RowTransform | undefined>;
    try {
      plan = this.host.gatewaySession.planResult({ statement, columns, source: 'rows' }, req.run);
    } catch (err) {
      refuse(err);
      return;
    }
    if (!(plan instanceof Promise)) { settle(plan); return; }
    this.suspended = true;
    this.host.pauseUpstream();
    plan.then(settle, refuse).finally(() => {
      this.suspended = false;
      this.host.resumeUpstream();
      if (this.ended) {
        this.flushOut();
        const rest = this.framer.drain();
        this.finish();
        if (rest.length > 0) this.onData(rest);
      } else {
        this.pumpInspect();
      }
    });
  }

  /**
   * A column definition, decoded only when its bytes differ from the same position's in the
   * previous result set: a statement run again (prepared, or the same text) describes the same columns.
   */
  private columnDefinition(index: number, payload: Buffer): ColumnDefinition {
    const known = this.shape[index];
    if (known !== undefined && known.bytes.equals(payload)) return known.definition;
    this.shapeChanged = true;
    const definition = parseColumnDefinition(payload);
    // A copy: the payload is a view of a chunk that is forwarded and dropped.
    this.shape[index] = { bytes: Buffer.from(payload), definition };
    return definition;
  }

  /**
   * Keeps a plan that masks a column or observes rows (a recorded session's plan may do only the
   * latter); a cursor's fetches pass the rewriter its execute made, which knows the rows observed.
   */
  private setPlan(columns: readonly ColumnDefinition[], transform: RowTransform | undefined, rewriter?: RowRewriter): void {
    if (!RowRewriter.wanted(transform)) {
      this.rewriter = undefined;
      return;
    }
    this.rewriter = rewriter ?? new RowRewriter(columns.map(valueTypeOf), transform, this.binaryRows);
    for (const i of transform.columns.keys()) { const c = columns[i]; if (c) this.maskedColumns.add(c.name); }
  }

  /** Set in passthrough mode: a redacted ERR to write in place of the packet being skipped. */
  private replacement: Buffer | undefined;

  /**
   * An upstream ERR as the plugins' error hooks let the client see it (a server quotes the value
   * that broke a constraint or a cast). An unchanged ERR goes out as the bytes that arrived; a
   * changed one is re-encoded with the same errno and SQLSTATE. `replaced`: do not forward the original.
   */
  private relayErr(payload: Buffer, seq: number): { err: ErrPacket; replaced: boolean } {
    const err = parseErr(payload);
    const original: ServerError = { code: String(err.errno), message: err.message };
    let redacted: ServerError;
    try {
      redacted = this.host.gatewaySession.redactError(this.currentStatement(), original, this.req!.run);
    } catch {
      // redactError fails closed itself; this guards the session against a core bug all the same.
      redacted = { code: original.code, message: 'the database\'s error text was withheld by the gateway' };
    }
    if (redacted === original || redacted.message === original.message) return { err, replaced: false };
    const changed: ErrPacket = { errno: err.errno, sqlState: err.sqlState, message: redacted.message };
    const bytes = errPacket(changed);
    if (this.inspect || this.suspended) this.emitUnlessHeld(bytes);
    else this.replacement = frame(bytes, seq);
    return { err: changed, replaced: true };
  }

  private currentStatement(): Statement | undefined {
    const list = this.req!.statements;
    if (list.length === 0) return undefined;
    return list[Math.min(this.statementIndex, list.length - 1)];
  }

  /** One result (OK, or the end of a result set) is over. */
  private resultEnd(status: number): void {
    this.serverStatus = status;
    this.rewriter = undefined;
    const more = (status & ServerStatus.MORE_RESULTS_EXISTS) !== 0;
    const list = this.req!.statements;
    if (this.statementIndex < list.length - 1) {
      this.completeCurrent(undefined);
      this.statementIndex++;
      this.rows = 0;
    }
    if (more) {
      this.state = State.First;
      return;
    }
    this.ended = true;
  }

  /** The upstream answered with an ERR: the statement failed and the response ends. True: replaced. */
  private failed(payload: Buffer, seq: number): boolean {
    const { err, replaced } = this.relayErr(payload, seq);
    this.completeCurrent({ code: String(err.errno), message: err.message });
    this.statementIndex = Number.MAX_SAFE_INTEGER;
    this.ended = true;
    return replaced;
  }

  private completeCurrent(error: { code: string; message: string } | undefined): void {
    const req = this.req!;
    if (!req.report) return;
    const statement = this.statementIndex < req.statements.length ? req.statements[this.statementIndex] : undefined;
    if (statement === undefined) return;
    const masked = this.maskedValues > 0 ? { columns: [...this.maskedColumns], values: this.maskedValues } : undefined;
    this.host.gatewaySession.complete(statement, { rows: error ? undefined : this.rows, durationMs: Date.now() - this.started, error, masked }, req.run);
    this.maskedValues = 0;
    this.maskedColumns.clear();
  }

  private finish(): void {
    const req = this.req!;
    if (this.statementIndex < req.statements.length) this.completeCurrent(undefined);
    this.req = undefined;
    this.state = State.Idle;
    this.rewriter = undefined;
    this.holding = false;
    this.held = [];
    this.continuation = false;
    this.inspect = false;
    this.prepare = undefined;
    this.host.responseDone();
  }
}

/** The length-encoded integer at the start of a payload (a result set's column count). */
function lenencHead(payload: Buffer): number {
  const first = payload[0]!;
  if (first < 0xfb) return first;
  if (first === 0xfc) return payload.readUInt16LE(1);
  if (first === 0xfd) return payload.readUIntLE(1, 3);
  return Number(payload.readBigUInt64LE(1));
}
