import { Socket } from 'node:net';
import {
  GatewayError,
  type Decided, type GatewaySession, type Logger, type ResultColumn, type ResultSet, type RowTransform, type ServerError,
  type Statement, type StatementRun, type UpstreamConfig,
} from '@querygate/core';
import { binaryToText, textToBinary } from '../codec/binaryValues';
import type { Framer } from '../codec/Framer';
import { Backend, Frontend, type ErrorFields } from '../codec/messages';
import {
  parseBind, parseCommandTag, parseDataRow, parseErrorFields, parseExecute, parseFunctionCall, parseParse,
  parseQuery, parseRowDescription, parseTarget, rowsOfTag,
} from '../codec/parser';
import {
  cancelRequest, dataRow, describe, errorResponse, noticeResponse, readyForQuery, terminate as terminateMessage,
} from '../codec/serializer';
import type { PostgresAnalyzer } from '../analysis/PostgresAnalyzer';
import { copyStatementOf, type CopyStatement } from '../analysis/copyStatement';
import { parseCopyOutResponse, type CopyOutResponse } from '../codec/copyRows';
import type { Catalog, RelationColumns } from './Catalog';
import { copyColumns, copyRelationNames, type CopyColumns } from './copyColumns';
import { CopyOutRelay } from './CopyOutRelay';
import type { PostgresRelations } from './Relations';
import { errorMessage } from './errors';
import { functionCallStatement } from './functionCallStatement';
import { MessagePump, type MessageHandler } from './MessagePump';
import { Outbox } from './Outbox';

/** What a forwarded client message is waiting for from upstream, in order. */
const OpKind = {
  Query: 1, // ... ReadyForQuery
  Parse: 2, // ParseComplete | ErrorResponse
  Bind: 3, // BindComplete | ErrorResponse
  DescribeStatement: 4, // ParameterDescription, RowDescription | NoData
  DescribePortal: 5, // RowDescription | NoData
  Execute: 6, // DataRow* then CommandComplete | EmptyQueryResponse | PortalSuspended | ErrorResponse
  Close: 7, // CloseComplete
  Sync: 8, // ReadyForQuery
  FunctionCall: 9, // FunctionCallResponse, ReadyForQuery
  Local: 10, // an answer querygate makes itself (a refusal), sent when its turn comes
} as const;

const STATUS_IDLE = 0x49; // I

/** A result's rewrite plan: on a simple-query op, or on a portal for its Executes. */
interface ResultPlan {
  transform: RowTransform | undefined;
  columns: readonly ResultColumn[] | undefined;
  refused: GatewayError | undefined;
  /** Rows of this result set handed to `transform.observe` so far (a portal's spans its Executes). */
  observed: number;
}

class Portal implements ResultPlan {
  described = false;
  transform: RowTransform | undefined = undefined;
  columns: readonly ResultColumn[] | undefined = undefined;
  refused: GatewayError | undefined = undefined;
  observed = 0;
  constructor(readonly statements: readonly Statement[], readonly run: StatementRun) {}
}

class Op implements ResultPlan {
  index = 0;
  started = performance.now();
  swallow = false;
  transform: RowTransform | undefined = undefined;
  columns: readonly ResultColumn[] | undefined = undefined;
  refused: GatewayError | undefined = undefined;
  observed = 0;
  dataRows = 0;
  maskedValues = 0;
  /** Local ops: the bytes to send, or undefined for a ReadyForQuery with the status at that time. */
  local: Buffer | undefined = undefined;
  constructor(
    readonly kind: number,
    readonly statements: readonly Statement[],
    readonly run: StatementRun | undefined,
    readonly portal: Portal | undefined,
  ) {}
}

const NO_STATEMENTS: readonly Statement[] = [];
const NOT_RUNNING: { readonly statement: undefined; readonly run: undefined } = { statement: undefined, run: undefined };

/**
 * The statement an upstream error or notice answers, with its run: the one the op is at (an
 * Execute op carries its portal's statements and run); none outside a statement (Parse, Sync...).
 */
function runningStatement(op: Op | undefined): { readonly statement: Statement | undefined; readonly run: StatementRun | undefined } {
  if (op === undefined || (op.kind !== OpKind.Query && op.kind !== OpKind.FunctionCall && op.kind !== OpKind.Execute)) return NOT_RUNNING;
  const statements = op.statements;
  return { statement: statements.length === 0 ? undefined : statements[Math.min(op.index, statements.length - 1)], run: op.run };
}

/** A COPY ... TO STDOUT whose rows are being rewritten: the op it answers and the plan it counts into. */
interface ActiveCopyOut {
  readonly op: Op;
  readonly plan: ResultPlan;
  readonly relay: CopyOutRelay;
}

/**
 * A value's text form as a client decoding it would see it: binary values of types querygate cannot
 * convert are shown as bytea-style hex.
 */
function valueText(value: Buffer | null, column: ResultColumn | undefined): string | null {
  if (value === null) return null;
  if (column?.format !== 'binary') return value.toString('utf8');
  return binaryToText(column.typeId, value) ?? `\\x${value.toString('hex')}`;
}

export interface ProxySessionOptions {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly clientRest: Buffer;
  readonly upstreamRest: Buffer;
  readonly session: GatewaySession;
  readonly analyzer: PostgresAnalyzer;
  readonly catalog: Catalog;
  readonly relations?: PostgresRelations | undefined;
  readonly database: string;
  readonly upstreamConfig: UpstreamConfig;
  readonly upstreamKey: { readonly processId: number; readonly secretKey: number };
  readonly logger: Logger;
  readonly onClosed: () => void;
}

/**
 * Relays one authenticated client session to its upstream connection. Client messages are judged
 * (Query, Parse, FunctionCall) and forwarded as the bytes that arrived; upstream messages pass
 * through untouched unless a result hook asked to rewrite a result set. A FIFO of `Op`s pairs each
 * forwarded message with the upstream responses it causes, so refusals querygate makes itself are
 * sent to the client in exactly the position the server would have sent them.
 */
export class ProxySession {
  private readonly client: Socket;
  private readonly upstream: Socket;
  private readonly gs: GatewaySession;
  private readonly clientOut: Outbox;
  private readonly upstreamOut: Outbox;
  private readonly clientPump: MessagePump;
  private readonly upstreamPump: MessagePump;
  private readonly prepared = new Map<string, readonly Statement[]>();
  private readonly portals = new Map<string, Portal>();
  private ops: Op[] = [];
  private head = 0;
  private lastStatus = STATUS_IDLE;
  /** After a refused Parse: client messages are dropped until Sync, as PostgreSQL does after an error. */
  private discarding = false;
  /** Extended-protocol messages were forwarded since the last Sync. */
  private batchForwarded = false;
  /** Upstream reported an extended-protocol error and skips messages until the next Sync. */
  private upstreamSkipping = false;
  /** A result refused mid-batch: upstream messages are dropped until ReadyForQuery. */
  private dropUntilReady = false;
  private closing = false;
  private closed = false;
  private clientFull = false;
  private upstreamFull = false;
  private readonly simpleRun: StatementRun;
  /** The COPY being relayed row by row, from its CopyOutResponse to its CopyDone. */
  private copyOut: ActiveCopyOut | undefined = undefined;

  constructor(private readonly options: ProxySessionOptions) {
    this.client = options.client;
    this.upstream = options.upstream;
    this.gs = options.session;
    const onNotice = (text: string): void => {
      this.clientOut.push(noticeResponse({ S: 'NOTICE', V: 'NOTICE', C: '00000', M: text }));
    };
    this.simpleRun = { via: 'simple', onNotice };
    this.clientOut = new Outbox(this.client, () => this.onClientFull());
    this.upstreamOut = new Outbox(this.upstream, () => this.onUpstreamFull());
    const clientHandler: MessageHandler = {
      onMessage: (f) => this.fromClient(f),
      // A batch of client messages is one write upstream now, not on a later tick.
      onBatchEnd: () => this.upstreamOut.flush(),
      onFailure: (err) => this.fail(err),
    };
    const upstreamHandler: MessageHandler = {
      onMessage: (f) => this.fromUpstream(f),
      onBatchEnd: () => this.clientOut.flush(),
      onFailure: (err) => this.fail(err),
    };
    this.clientPump = new MessagePump(clientHandler);
    this.upstreamPump = new MessagePump(upstreamHandler);
  }

  get id(): string { return this.gs.id; }

  /** Nothing outstanding upstream and no judgement pending. */
  get idle(): boolean {
    return this.head >= this.ops.length && !this.clientPump.busy && !this.upstreamPump.busy;
  }

  start(): void {
    const { client, upstream } = this;
    client.on('close', () => this.onClientClosed());
    upstream.on('close', () => this.onUpstreamClosed());
    upstream.on('error', (err) => this.options.logger.debug('upstream socket error', { sessionId: this.id, error: err.message }));
    client.on('drain', () => {
      if (this.clientFull) { this.clientFull = false; this.upstreamPump.resume(); }
    });
    upstream.on('drain', () => {
      if (this.upstreamFull) { this.upstreamFull = false; this.clientPump.resume(); }
    });
    this.upstreamPump.attach(upstream, this.options.upstreamRest);
    this.clientPump.attach(client, this.options.clientRest);
  }

  /** A CancelRequest with this session's key: abandon a pending decision and cancel upstream. */
  cancel(): void {
    this.gs.cancelPending();
    const { host, port } = this.options.upstreamConfig;
    const { processId, secretKey } = this.options.upstreamKey;
    const socket = new Socket();
    socket.on('error', () => undefined);
    socket.setTimeout(5000, () => socket.destroy());
    socket.connect(port, host, () => socket.end(cancelRequest(processId, secretKey)));
  }

  /** Graceful shutdown: now when idle, else once the running statement completes. */
  shutdown(): void {
    this.closing = true;
    if (this.idle) this.terminate(new GatewayError('QG_SHUTTING_DOWN'), 'shutdown');
  }

  /** Ends the session now with `error` as FATAL. */
  terminate(error: GatewayError, reason: 'shutdown' | 'error' | 'upstream_closed'): void {
    if (this.closed) return;
    this.clientOut.end(errorMessage(error, 'FATAL'));
    this.close(reason);
  }

  // ---------------------------------------------------------------- client -> upstream

  private fromClient(f: Framer): void | Promise<void> {
    const type = f.type;
    if (this.discarding && type !== Frontend.Sync && type !== Frontend.Terminate) return;
    switch (type) {
      case Frontend.Query: return this.onQuery(f);
      case Frontend.Parse: return this.onParse(f);
      case Frontend.Bind: return this.onBind(f);
      case Frontend.Execute: return this.onExecute(f);
      case Frontend.Describe: return this.onDescribe(f);
      case Frontend.Close: return this.onClose(f);
      case Frontend.Sync: return this.onSync(f);
      case Frontend.Flush:
      case Frontend.CopyData:
      case Frontend.CopyDone:
      case Frontend.CopyFail:
        this.forward(f.buffer, f.start, f.end);
        return;
      case Frontend.FunctionCall: return this.onFunctionCall(f);
      case Frontend.Terminate:
        this.upstreamOut.push(terminateMessage());
        this.upstreamOut.end();
        this.clientOut.end();
        this.close('client_closed');
        return;
      default:
        throw new GatewayError('QG_PROTOCOL_VIOLATION', `invalid frontend message type ${type} (0x${type.toString(16)})`);
    }
  }

  private onQuery(f: Framer): void | Promise<void> {
    const sql = parseQuery(f.buffer, f.bodyStart, f.end);
    const statements = this.options.analyzer.analyze(sql);
    const run = this.simpleRun;
    const buf = f.buffer;
    const start = f.start;
    const end = f.end;
    return this.judged(statements, run, (decided) => this.afterQuery(decided, buf, start, end, statements, run));
  }

  /**
   * Judges a message's statements and hands the decision on; synchronous when nothing waits. The
   * relation catalog the hooks read must first know what the statements name (a first statement
   * in a database, a snapshot stale after DDL); if it cannot be read, the message is refused.
   */
  private judged(statements: readonly Statement[], run: StatementRun, then: (decided: Decided) => void): void | Promise<void> {
    const judge = (): void | Promise<void> => {
      const verdict = this.gs.judge(statements, run);
      if (verdict instanceof Promise) {
        this.upstreamOut.seal();
        return verdict.then(then);
      }
      then(verdict);
    };
    const ready = this.options.relations?.ready(this.options.database, statements);
    if (ready === undefined) return judge();
    this.upstreamOut.seal();
    return ready.then(judge, (err: unknown) => {
      this.options.logger.warn('relation catalog unavailable; refusing the statement', { sessionId: this.id, error: String(err) });
      then(this.gs.refuse(statements, run, GatewayError.from(err, 'QG_UPSTREAM_UNAVAILABLE')));
    });
  }

  private afterQuery(decided: Decided, buf: Buffer, start: number, end: number, statements: readonly Statement[], run: StatementRun): void {
    if (this.closed) return;
    if (decided.action === 'deny') {
      this.pushLocal(errorMessage(decided.error, 'ERROR'));
      this.pushLocal(undefined);
      return;
    }
    this.forward(buf, start, end);
    this.pushOp(new Op(OpKind.Query, statements, run, undefined));
  }

  private onParse(f: Framer): void | Promise<void> {
    const parse = parseParse(f.buffer, f.bodyStart, f.end);
    const statements = this.options.analyzer.analyze(parse.query);
    const run: StatementRun = { via: 'prepare', onNotice: this.simpleRun.onNotice };
    const buf = f.buffer;
    const start = f.start;
    const end = f.end;
    return this.judged(statements, run, (decided) => this.afterParse(decided, buf, start, end, parse.name, statements));
  }

  private afterParse(decided: Decided, buf: Buffer, start: number, end: number, name: string, statements: readonly Statement[]): void {
    if (this.closed) return;
    if (decided.action === 'deny') {
      this.pushLocal(errorMessage(decided.error, 'ERROR'));
      this.discarding = true;
      return;
    }
    this.prepared.set(name, statements);
    this.forwardExtended(buf, start, end, OpKind.Parse, NO_STATEMENTS, undefined, undefined);
  }

  private onBind(f: Framer): void {
    const bind = parseBind(f.buffer, f.bodyStart, f.end);
    const statements = this.prepared.get(bind.statement) ?? NO_STATEMENTS;
    const parameters = bind.parameters.length === 0 ? undefined : bind.parameters.map((value, i) => {
      if (value === null) return null;
      const format = bind.parameterFormats.length === 1 ? bind.parameterFormats[0] : bind.parameterFormats[i];
      return format === 1 ? `\\x${value.toString('hex')}` : value.toString('utf8');
    });
    const run: StatementRun = parameters
      ? { via: 'execute', parameters, onNotice: this.simpleRun.onNotice }
      : { via: 'execute', onNotice: this.simpleRun.onNotice };
    const portal = new Portal(statements, run);
    this.portals.set(bind.portal, portal);
    this.forwardExtended(f.buffer, f.start, f.end, OpKind.Bind, NO_STATEMENTS, undefined, undefined);
  }

  private onDescribe(f: Framer): void {
    const target = parseTarget(f.buffer, f.bodyStart, f.end, 'Describe');
    if (target.target === 'P') {
      const portal = this.portals.get(target.name);
      if (portal) portal.described = true;
      this.forwardExtended(f.buffer, f.start, f.end, OpKind.DescribePortal, NO_STATEMENTS, undefined, portal);
    } else {
      this.forwardExtended(f.buffer, f.start, f.end, OpKind.DescribeStatement, NO_STATEMENTS, undefined, undefined);
    }
  }

  private onExecute(f: Framer): void {
    const execute = parseExecute(f.buffer, f.bodyStart, f.end);
    const portal = this.portals.get(execute.portal);
    if (portal && !portal.described && this.gs.hasResultHooks) {
      // Result hooks need the columns, and a client that did not Describe gets no RowDescription:
      // ask upstream ourselves and swallow the answer.
      portal.described = true;
      this.upstreamOut.push(describe('P', execute.portal));
      if (!this.upstreamSkipping) {
        const op = new Op(OpKind.DescribePortal, NO_STATEMENTS, undefined, portal);
        op.swallow = true;
        this.pushOp(op);
      }
    }
    this.forwardExtended(f.buffer, f.start, f.end, OpKind.Execute, portal?.statements ?? NO_STATEMENTS, portal?.run, portal);
  }

  private onClose(f: Framer): void {
    const target = parseTarget(f.buffer, f.bodyStart, f.end, 'Close');
    if (target.target === 'S') this.prepared.delete(target.name);
    else this.portals.delete(target.name);
    this.forwardExtended(f.buffer, f.start, f.end, OpKind.Close, NO_STATEMENTS, undefined, undefined);
  }

  private onSync(f: Framer): void {
    const forwarded = this.batchForwarded;
    this.batchForwarded = false;
    if (this.discarding) {
      this.discarding = false;
      if (!forwarded) {
        // Nothing of this batch reached the server: answer the Sync ourselves.
        this.pushLocal(undefined);
        return;
      }
    }
    this.forward(f.buffer, f.start, f.end);
    this.upstreamSkipping = false;
    this.pushOp(new Op(OpKind.Sync, NO_STATEMENTS, undefined, undefined));
  }

  private onFunctionCall(f: Framer): Promise<void> {
    const call = parseFunctionCall(f.buffer, f.bodyStart, f.end);
    const buf = f.buffer;
    const start = f.start;
    const end = f.end;
    this.upstreamOut.seal();
    const run: StatementRun = {
      via: 'function_call',
      parameters: call.arguments.map((a, i) => {
        if (a === null) return null;
        const format = call.argumentFormats.length === 1 ? call.argumentFormats[0] : call.argumentFormats[i];
        return format === 1 ? `\\x${a.toString('hex')}` : a.toString('utf8');
      }),
      onNotice: this.simpleRun.onNotice,
    };
    return this.options.catalog.functionName(this.options.database, call.functionOid)
      .catch(() => `oid:${call.functionOid}`)
      .then((name) => {
        const statements = [functionCallStatement(name, call.functionOid)];
        return Promise.resolve(this.gs.judge(statements, run)).then((decided) => {
          if (this.closed) return;
          if (decided.action === 'deny') {
            this.pushLocal(errorMessage(decided.error, 'ERROR'));
            this.pushLocal(undefined);
            return;
          }
          this.forward(buf, start, end);
          this.pushOp(new Op(OpKind.FunctionCall, statements, run, undefined));
        });
      });
  }

  private forwardExtended(buf: Buffer, start: number, end: number, kind: number, statements: readonly Statement[], run: StatementRun | undefined, portal: Portal | undefined): void {
    this.forward(buf, start, end);
    this.batchForwarded = true;
    // While upstream skips to Sync after an error, these messages get no answer at all.
    if (!this.upstreamSkipping) this.pushOp(new Op(kind, statements, run, portal));
  }

  private forward(buf: Buffer, start: number, end: number): void {
    this.upstreamOut.pushRange(buf, start, end);
  }

  // ---------------------------------------------------------------- upstream -> client

  private fromUpstream(f: Framer): void | Promise<void> {
    const type = f.type;
    if (this.dropUntilReady && type !== Backend.ReadyForQuery) return;
    const op = this.head < this.ops.length ? this.ops[this.head]! : undefined;
    switch (type) {
      case Backend.DataRow: {
        if (op === undefined) break;
        op.dataRows++;
        const plan = this.resultPlanOf(op);
        if (plan.refused) return;
        if (plan.transform === undefined) break;
        this.relayRow(f, plan, op);
        return;
      }
      case Backend.CommandComplete:
        this.onCommandComplete(f, op);
        return;
      case Backend.ReadyForQuery:
        this.onReadyForQuery(f);
        return;
      case Backend.RowDescription:
        return this.onRowDescription(f, op);
      case Backend.NoData:
        if (op && (op.kind === OpKind.DescribePortal || op.kind === OpKind.DescribeStatement)) {
          if (op.portal) { op.portal.transform = undefined; op.portal.columns = undefined; }
          if (!op.swallow) this.pass(f);
          this.pop();
          return;
        }
        break;
      case Backend.ParseComplete:
      case Backend.BindComplete:
      case Backend.CloseComplete:
        this.pass(f);
        if (op) this.pop();
        return;
      case Backend.EmptyQueryResponse:
        this.pass(f);
        if (op?.kind === OpKind.Query) op.index++;
        else if (op?.kind === OpKind.Execute) this.pop();
        return;
      case Backend.PortalSuspended:
        this.pass(f);
        if (op?.kind === OpKind.Execute) {
          this.completeStatement(op, op.statements[0], op.dataRows, undefined);
          this.pop();
        }
        return;
      case Backend.ErrorResponse:
        this.onUpstreamError(f, op);
        return;
      case Backend.NoticeResponse:
        this.onUpstreamNotice(f, op);
        return;
      case Backend.CopyOutResponse:
        return this.onCopyOut(f, op);
      case Backend.CopyData:
        if (op !== undefined && this.resultPlanOf(op).refused) return;
        if (this.copyOut !== undefined && this.copyOut.op === op) { this.relayCopyData(f, this.copyOut); return; }
        break;
      case Backend.CopyDone:
        if (op !== undefined && this.resultPlanOf(op).refused) return;
        if (this.copyOut !== undefined && this.copyOut.op === op && !this.endCopyOut(this.copyOut)) return;
        break;
      default:
        break;
    }
    this.pass(f);
  }

  private onReadyForQuery(f: Framer): void {
    this.lastStatus = f.buffer[f.bodyStart] ?? STATUS_IDLE;
    if (this.lastStatus === STATUS_IDLE) this.options.relations?.transactionEnded(this.gs.session, this.options.database);
    this.dropUntilReady = false;
    this.pass(f);
    // Self-healing: anything still queued before the op this answers got no answer.
    while (this.head < this.ops.length) {
      const kind = this.ops[this.head]!.kind;
      if (kind === OpKind.Query || kind === OpKind.Sync || kind === OpKind.FunctionCall) break;
      if (kind === OpKind.Local) break;
      this.head++;
    }
    if (this.head < this.ops.length && this.ops[this.head]!.kind !== OpKind.Local) this.pop();
    else this.afterPop();
  }

  private onCommandComplete(f: Framer, op: Op | undefined): void {
    if (op === undefined || (op.kind !== OpKind.Query && op.kind !== OpKind.Execute && op.kind !== OpKind.FunctionCall)) {
      this.pass(f);
      return;
    }
    const statements = op.statements;
    const statement = statements.length === 0 ? undefined : statements[op.index < statements.length ? op.index : statements.length - 1];
    const plan = this.resultPlanOf(op);
    const tag = parseCommandTag(f.buffer, f.bodyStart, f.end);
    if (plan.refused) {
      const refused = plan.refused;
      this.clientOut.push(errorMessage(refused, 'ERROR'));
      this.completeStatement(op, statement, undefined, { code: refused.code, message: refused.message });
      if (op.kind === OpKind.Execute) {
        // The client now expects nothing until ReadyForQuery, as after any error.
        this.dropUntilReady = true;
        this.advance();
        this.dropOpsUntilSync();
        return;
      }
      op.refused = undefined;
    } else {
      this.pass(f);
      this.completeStatement(op, statement, rowsOfTag(tag), undefined);
    }
    if (statement && (statement.kind === 'ddl' || /^(CREATE|ALTER|DROP) /.test(tag))) {
      this.options.catalog.invalidate(this.options.database);
      // Other sessions see it once committed: the snapshot is renewed when the transaction ends.
      this.options.relations?.changedInTransaction(this.gs.session, statement.writes);
    }
    if (op.kind === OpKind.Query) {
      op.index++;
      op.transform = undefined;
      op.columns = undefined;
      op.observed = 0;
      op.dataRows = 0;
      op.maskedValues = 0;
      op.started = performance.now();
    } else if (op.kind === OpKind.Execute) {
      this.pop();
    }
  }

  private completeStatement(op: Op, statement: Statement | undefined, rows: number | undefined, error: { code: string; message: string } | undefined): void {
    if (statement === undefined || op.run === undefined) return;
    const durationMs = performance.now() - op.started;
    const plan = this.resultPlanOf(op);
    const masked = op.maskedValues > 0 && plan.transform && plan.columns
      ? { columns: [...plan.transform.columns.keys()].map((i) => plan.columns![i]?.name ?? String(i)), values: op.maskedValues }
      : undefined;
    this.gs.complete(statement, { rows, durationMs, error, masked }, op.run);
    op.maskedValues = 0;
  }

  private onUpstreamError(f: Framer, op: Op | undefined): void {
    const { statement, run } = runningStatement(op);
    const error = this.redactedError(f, parseErrorFields(f.buffer, f.bodyStart, f.end), statement, run);
    if (op === undefined || op.kind === OpKind.Sync) return;
    if (op.kind === OpKind.Query || op.kind === OpKind.FunctionCall) {
      this.completeStatement(op, statement, undefined, error);
      op.index = op.statements.length;
      return; // ReadyForQuery follows
    }
    if (op.kind === OpKind.Execute) this.completeStatement(op, statement, undefined, error);
    // Extended protocol: the server now skips everything up to Sync.
    this.advance();
    this.dropOpsUntilSync();
  }

  /**
   * A notice quotes server text as an error does (`RAISE NOTICE '%', email` in a DO block or a
   * function): it goes through the same error hooks, tied to the statement running.
   */
  private onUpstreamNotice(f: Framer, op: Op | undefined): void {
    const { statement, run } = runningStatement(op);
    this.redactedError(f, parseErrorFields(f.buffer, f.bodyStart, f.end), statement, run, Backend.NoticeResponse);
  }

  /**
   * Forwards an upstream ErrorResponse as the plugins' error hooks let the client see it (a server
   * quotes the value that failed a cast, a duplicate key...). Unchanged errors go out as the bytes
   * that arrived; a changed one is re-encoded with its new text fields and every other field
   * (severity, SQLSTATE, position...) as it was. Returns the code and message to audit.
   */
  private redactedError(
    f: Framer, fields: ErrorFields, statement: Statement | undefined, run: StatementRun | undefined, type: number = Backend.ErrorResponse,
  ): { code: string; message: string } {
    const original: ServerError = {
      code: fields.C ?? 'XX000',
      message: fields.M ?? '',
      ...(fields.D !== undefined ? { detail: fields.D } : {}),
      ...(fields.H !== undefined ? { hint: fields.H } : {}),
      ...(fields.W !== undefined ? { where: fields.W } : {}),
    };
    let redacted: ServerError;
    try {
      redacted = this.gs.redactError(statement, original, run);
    } catch (err) {
      // redactError fails closed itself; this guards the session against a core bug all the same.
      this.options.logger.error('error redaction failed; withholding the error text', { sessionId: this.id, error: String(err) });
      redacted = { code: original.code, message: 'the database\'s error text was withheld by the gateway' };
    }
    if (redacted === original) {
      this.pass(f);
      return { code: original.code, message: original.message };
    }
    const text: Record<string, string | undefined> = { M: redacted.message, D: redacted.detail, H: redacted.hint, W: redacted.where };
    const out: Record<string, string> = {};
    for (const [code, value] of Object.entries(fields)) {
      if (!(code in text)) out[code] = value;
      else if (text[code] !== undefined) out[code] = text[code]!;
    }
    for (const [code, value] of Object.entries(text)) {
      if (value !== undefined && !(code in out)) out[code] = value;
    }
    this.clientOut.push(errorResponse(out, type));
    return { code: original.code, message: redacted.message };
  }

  private onRowDescription(f: Framer, op: Op | undefined): void | Promise<void> {
    if (op === undefined) { this.pass(f); return; }
    const kind = op.kind;
    if (kind === OpKind.DescribeStatement) {
      this.pass(f);
      this.pop();
      return;
    }
    if (kind !== OpKind.Query && kind !== OpKind.DescribePortal) { this.pass(f); return; }
    if (!this.gs.hasResultHooks) {
      this.pass(f);
      if (kind === OpKind.DescribePortal) this.pop();
      return;
    }
    const plan: ResultPlan = kind === OpKind.DescribePortal ? (op.portal ?? op) : op;
    const statements = kind === OpKind.Query ? op.statements : (op.portal?.statements ?? NO_STATEMENTS);
    const statement = statements.length === 0 ? undefined : statements[Math.min(op.index, statements.length - 1)];
    const run = kind === OpKind.Query ? op.run : op.portal?.run;
    const buf = f.buffer;
    const start = f.start;
    const end = f.end;
    const finish = (): void => {
      if (!op.swallow) this.passBytes(buf, start, end);
      if (kind === OpKind.DescribePortal) this.pop();
    };
    if (statement === undefined || run === undefined) {
      plan.transform = undefined;
      finish();
      return;
    }
    const bodyStart = f.bodyStart;
    const planned = this.planResult(buf, bodyStart, end, statement, run, plan);
    if (planned === undefined) { finish(); return; }
    this.clientOut.seal();
    return planned.then(finish);
  }

  /** Asks the result hooks for a plan; sets it on `target`. A promise only when something is asynchronous. */
  private planResult(buf: Buffer, bodyStart: number, end: number, statement: Statement, run: StatementRun, target: ResultPlan): Promise<void> | undefined {
    target.transform = undefined;
    target.columns = undefined;
    target.refused = undefined;
    target.observed = 0;
    const refuse = (err: unknown): void => {
      target.transform = undefined;
      target.refused = err instanceof GatewayError
        ? err
        : new GatewayError('QG_MASKING_UNRESOLVED', 'the result columns could not be resolved, so the result is withheld', { cause: err });
      if (!(err instanceof GatewayError)) this.options.logger.warn('result planning failed', { sessionId: this.id, error: String(err) });
    };
    const withColumns = (columns: readonly ResultColumn[]): Promise<void> | undefined => {
      target.columns = columns;
      const result: ResultSet = { statement, columns, source: 'rows' };
      let plan: RowTransform | undefined | Promise<RowTransform | undefined>;
      try {
        plan = this.gs.planResult(result, run);
      } catch (err) {
        refuse(err);
        return undefined;
      }
      if (plan instanceof Promise) {
        return plan.then((p) => { target.transform = this.usable(p); }, refuse);
      }
      target.transform = this.usable(plan);
      return undefined;
    };
    let columns: ResultColumn[] | Promise<ResultColumn[]>;
    try {
      columns = this.options.catalog.columnsOf(this.options.database, buf, bodyStart, end, () => parseRowDescription(buf, bodyStart, end));
    } catch (err) {
      refuse(err);
      return undefined;
    }
    if (columns instanceof Promise) {
      return columns.then((c) => withColumns(c), refuse);
    }
    return withColumns(columns);
  }

  /** A plan that rewrites nothing still counts when it observes rows (session recording). */
  private usable(plan: RowTransform | undefined): RowTransform | undefined {
    return plan && (plan.columns.size > 0 || (plan.observe !== undefined && (plan.observeLimit ?? 0) > 0)) ? plan : undefined;
  }

  /**
   * COPY ... TO STDOUT carries no column metadata and its rows are not DataRows. The columns come
   * from the catalog and the analyser's lineage (copyColumns); when the plan rewrites any, the rows
   * of a text or CSV COPY are relayed through a CopyOutRelay. The COPY is refused instead (its
   * output withheld, the error sent in place of CommandComplete) when a masked column's rows cannot
   * be rewritten safely: binary format, columns not resolved one for one, options not readable.
   */
  private onCopyOut(f: Framer, op: Op | undefined): void | Promise<void> {
    this.copyOut = undefined;
    if (op === undefined || !this.gs.hasResultHooks || (op.kind !== OpKind.Query && op.kind !== OpKind.Execute)) {
      this.pass(f);
      return;
    }
    const statements = op.kind === OpKind.Query ? op.statements : (op.portal?.statements ?? NO_STATEMENTS);
    const statement = statements[Math.min(op.index, statements.length - 1)];
    const run = op.kind === OpKind.Query ? op.run : op.portal?.run;
    if (!statement || !run) { this.pass(f); return; }
    const plan = this.resultPlanOf(op);
    plan.transform = undefined;
    plan.columns = undefined;
    plan.refused = undefined;
    plan.observed = 0;
    const buf = f.buffer;
    const start = f.start;
    const end = f.end;
    const response = parseCopyOutResponse(buf, f.bodyStart, end);
    const copy = copyStatementOf(statement.text);
    const refuse = (err: unknown): void => {
      plan.transform = undefined;
      plan.refused = err instanceof GatewayError
        ? err
        : new GatewayError('QG_MASKING_UNRESOLVED', 'the COPY columns could not be resolved, so its output is withheld', { cause: err });
      if (!(err instanceof GatewayError)) this.options.logger.warn('COPY planning failed', { sessionId: this.id, error: String(err) });
    };
    const withRelations = (relations: readonly RelationColumns[] | undefined): void | Promise<void> => {
      const resolved = copyColumns(copy, statement, relations, response.columnFormats.length);
      let planned: RowTransform | undefined | Promise<RowTransform | undefined>;
      try {
        planned = this.gs.planResult({ statement, columns: resolved.columns, source: 'copy' }, run);
      } catch (err) {
        refuse(err);
        return;
      }
      const begin = (transform: RowTransform | undefined): void => {
        const refusal = this.startCopyOut(op, plan, transform, resolved, copy, response);
        if (refusal) plan.refused = refusal;
        else this.passBytes(buf, start, end);
      };
      if (planned instanceof Promise) return planned.then(begin, refuse);
      begin(planned);
    };
    const names = copyRelationNames(copy, statement);
    if (names.length === 0) return withRelations([]);
    this.clientOut.seal();
    return this.options.catalog.relationColumns(this.options.database, names).then(withRelations, (err: unknown) => {
      this.options.logger.warn('catalog look-up for COPY columns failed', { sessionId: this.id, error: String(err) });
      return withRelations(undefined);
    }).catch(refuse);
  }

  /** The plan a result of `op` is rewritten by: the portal's for an Execute, else the op's own. */
  private resultPlanOf(op: Op): ResultPlan {
    return op.kind === OpKind.Execute && op.portal ? op.portal : op;
  }

  /**
   * Decides how a COPY's data go out under `transform`: as they come (nothing to rewrite or
   * observe), through a CopyOutRelay, or not at all (the refusal returned).
   */
  private startCopyOut(op: Op, plan: ResultPlan, transform: RowTransform | undefined, resolved: CopyColumns, copy: CopyStatement | undefined, response: CopyOutResponse): GatewayError | undefined {
    const masks = transform?.columns.size ?? 0;
    const observes = transform?.observe !== undefined && (transform.observeLimit ?? 0) > 0;
    if (transform === undefined || (masks === 0 && !observes) || response.columnFormats.length === 0) return undefined;
    const binary = response.binary || copy?.options.format === 'binary';
    const encoding = copy?.options.encoding;
    const why = copy === undefined ? 'the COPY statement\'s options could not be read'
      : binary ? 'binary COPY data cannot be masked; use FORMAT text or csv'
        : encoding !== undefined && !/^utf-?8$|^unicode$/i.test(encoding) ? `COPY data in encoding ${encoding} cannot be masked; leave ENCODING out or use UTF8`
          : resolved.problem;
    if (why !== undefined || copy === undefined) {
      // Nothing to rewrite: the rows pass unobserved rather than being refused.
      if (masks === 0) return undefined;
      return new GatewayError('QG_MASKING_UNRESOLVED', `COPY TO STDOUT of columns that need masking was refused: ${why ?? 'unknown'}`, {
        rule: transform.label,
        hint: 'Name the columns in the COPY (COPY (SELECT a, b FROM t) TO STDOUT) in text or CSV format, or select the rows with a query; its result is masked.',
      });
    }
    plan.transform = transform;
    plan.columns = resolved.columns;
    this.copyOut = { op, plan, relay: new CopyOutRelay(copy.options, resolved.columns, transform, this.options.logger, this.id) };
    return undefined;
  }

  /** One CopyData of a relayed COPY: its complete rows rewritten, an incomplete one kept. */
  private relayCopyData(f: Framer, copy: ActiveCopyOut): void {
    let messages: Buffer[] | undefined;
    try {
      messages = copy.relay.relay(f.buffer, f.bodyStart, f.end);
    } catch (err) {
      // A row that cannot be read is withheld with everything after it; the error replaces CommandComplete.
      copy.plan.refused = GatewayError.from(err);
      this.copyOut = undefined;
      return;
    } finally {
      copy.op.maskedValues += copy.relay.takeMasked();
      copy.plan.observed = copy.relay.observed;
    }
    if (messages === undefined) { this.pass(f); return; }
    for (const m of messages) this.clientOut.push(m);
  }

  /** CopyDone of a relayed COPY: true to forward it; false when a row was left incomplete (refused). */
  private endCopyOut(copy: ActiveCopyOut): boolean {
    this.copyOut = undefined;
    const error = copy.relay.finish();
    if (error === undefined) return true;
    copy.plan.refused = error;
    return false;
  }

  /**
   * Sends one DataRow of a planned result set: masked columns rewritten, and while the plan observes
   * rows, every value of the row as the client receives it handed to `observe` in text form. A row
   * neither masked nor observed goes out as the bytes that arrived.
   */
  private relayRow(f: Framer, plan: ResultPlan, op: Op): void {
    const transform = plan.transform!;
    const observe = transform.observe !== undefined && plan.observed < (transform.observeLimit ?? 0) ? transform.observe : undefined;
    const masks = transform.columns;
    if (observe === undefined && masks.size === 0) { this.pass(f); return; }
    const values = parseDataRow(f.buffer, f.bodyStart, f.end);
    const columns = plan.columns!;
    // Text of each value as sent, for the observer; `undefined` = not yet known (decoded below).
    const texts: (string | null | undefined)[] | undefined = observe ? new Array<string | null | undefined>(values.length) : undefined;
    for (const [index, mask] of masks) {
      const value = values[index];
      if (value === null || value === undefined) continue;
      const column = columns[index];
      if (!column) continue;
      const binary = column.format === 'binary';
      let out: Buffer | null = null;
      let sent: string | null = null;
      const text = binary ? binaryToText(column.typeId, value) : value.toString('utf8');
      if (text !== undefined) {
        let masked: string | null;
        try {
          masked = mask(text);
        } catch (err) {
          // Fail closed: a mask that throws sends NULL, never the value.
          this.options.logger.warn('value mask threw; sending NULL', { sessionId: this.id, column: column.name, error: String(err) });
          masked = null;
        }
        if (masked !== null) out = binary ? (textToBinary(column.typeId, masked, value) ?? null) : Buffer.from(masked, 'utf8');
        if (out !== null) sent = masked;
      } else if (binary) {
        // Not decodable (a record with a field of a type the codec lacks): the emptiest value of the
        // same type (an empty array, a record of NULLs), so a non-NULL value does not become NULL.
        out = textToBinary(column.typeId, '', value) ?? null;
        if (out !== null) sent = valueText(out, column);
      }
      values[index] = out;
      if (texts) texts[index] = sent;
      op.maskedValues++;
    }
    if (observe && texts) {
      plan.observed++;
      for (let i = 0; i < values.length; i++) {
        if (texts[i] === undefined) texts[i] = valueText(values[i] ?? null, columns[i]);
      }
      try {
        observe(texts as (string | null)[]);
      } catch (err) {
        // The observer is the gateway's own recording: its failure never touches the client's rows.
        this.options.logger.warn('row observer threw', { sessionId: this.id, error: String(err) });
      }
    }
    if (masks.size === 0) { this.pass(f); return; }
    this.clientOut.push(dataRow(values));
  }

  private pass(f: Framer): void {
    this.passBytes(f.buffer, f.start, f.end);
  }

  private passBytes(buf: Buffer, start: number, end: number): void {
    this.clientOut.pushRange(buf, start, end);
  }

  // ---------------------------------------------------------------- the op queue

  private pushOp(op: Op): void {
    if (this.head >= this.ops.length && this.head > 0) {
      this.ops = [];
      this.head = 0;
    }
    this.ops.push(op);
  }

  /** A refusal (or ReadyForQuery when `bytes` is undefined) sent once everything before it was answered. */
  private pushLocal(bytes: Buffer | undefined): void {
    if (this.head >= this.ops.length) {
      this.clientOut.push(bytes ?? readyForQuery(this.lastStatus));
      return;
    }
    const op = new Op(OpKind.Local, NO_STATEMENTS, undefined, undefined);
    op.local = bytes;
    this.ops.push(op);
  }

  private advance(): void {
    this.head++;
  }

  private pop(): void {
    this.head++;
    this.afterPop();
  }

  private afterPop(): void {
    while (this.head < this.ops.length && this.ops[this.head]!.kind === OpKind.Local) {
      const local = this.ops[this.head++]!;
      this.clientOut.push(local.local ?? readyForQuery(this.lastStatus));
    }
    if (this.head >= this.ops.length) {
      if (this.head > 64) { this.ops = []; this.head = 0; }
      if (this.closing) {
        this.clientOut.seal();
        this.terminate(new GatewayError('QG_SHUTTING_DOWN'), 'shutdown');
      }
    }
  }

  /** After an extended-protocol error: every queued answer up to the next Sync will never come. */
  private dropOpsUntilSync(): void {
    while (this.head < this.ops.length && this.ops[this.head]!.kind !== OpKind.Sync) this.head++;
    if (this.head >= this.ops.length) this.upstreamSkipping = true;
  }

  // ---------------------------------------------------------------- backpressure and endings

  private onClientFull(): void {
    if (this.clientFull || this.closed) return;
    this.clientFull = true;
    this.upstreamPump.pause();
  }

  private onUpstreamFull(): void {
    if (this.upstreamFull || this.closed) return;
    this.upstreamFull = true;
    this.clientPump.pause();
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    const error = GatewayError.from(err);
    if (error.code === 'QG_INTERNAL') this.options.logger.error('session failed', { sessionId: this.id, error: String(err) });
    this.terminate(error, 'error');
  }

  private onClientClosed(): void {
    if (this.closed) return;
    this.upstreamOut.push(terminateMessage());
    this.upstreamOut.end();
    this.close('client_closed');
  }

  private onUpstreamClosed(): void {
    if (this.closed) return;
    this.terminate(new GatewayError('QG_UPSTREAM_LOST', `the connection to the upstream database was lost`), 'upstream_closed');
  }

  private close(reason: 'client_closed' | 'upstream_closed' | 'error' | 'shutdown'): void {
    if (this.closed) return;
    this.closed = true;
    this.clientPump.stop();
    this.upstreamPump.stop();
    this.gs.cancelPending();
    if (!this.upstream.destroyed) {
      this.upstreamOut.flush();
      this.upstream.end();
      setTimeout(() => this.upstream.destroy(), 1000).unref();
    }
    setTimeout(() => this.client.destroy(), 1000).unref();
    this.gs.end(reason).catch((err: unknown) => this.options.logger.error('session end failed', { sessionId: this.id, error: String(err) }));
    this.options.onClosed();
  }
}
