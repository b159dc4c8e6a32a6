import { Client, Pool, type PoolClient } from 'pg';
import type { Logger } from '@querygate/core';
import type { ApprovalRequest } from '../ApprovalRequest';
import { isRefusal, refusal } from '../transitions';
import type { ApprovalChange, ApprovalQuery, ApprovalStore, ChangeListener, UpdateResult } from './ApprovalStore';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './query';

export interface PostgresApprovalStoreOptions {
  /** libpq-style URL, e.g. postgresql://user:pass@host:5432/db. */
  readonly url: string;
  /** Table (optionally schema-qualified) created at open when missing. */
  readonly table: string;
  /** LISTEN/NOTIFY channel replicas announce changes on. */
  readonly channel: string;
  /** How often the requests this replica waits on are re-read, in case a notification was missed. */
  readonly pollIntervalMs: number;
  readonly logger: Logger;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

export function isSqlIdentifier(value: string): boolean {
  return IDENTIFIER.test(value);
}

/**
 * The store for several gateway replicas. Each request is a row (a few indexed columns plus the
 * whole request as jsonb); `update` runs read-change-write under `SELECT ... FOR UPDATE`, so only
 * one replica's decision wins. Every change is announced with NOTIFY (delivered at commit); each
 * replica LISTENs, and also polls the requests its own sessions wait on, so a notification lost
 * while the LISTEN connection was down delays a decision by at most one poll interval.
 */
export class PostgresApprovalStore implements ApprovalStore {
  private readonly pool: Pool;
  private listenClient: Client | undefined;
  private readonly listeners = new Set<ChangeListener>();
  private readonly watched = new Map<string, number>();
  /** Highest version each request was announced with, so duplicate news is dropped. */
  private readonly known = new Map<string, number>();
  private pollTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay = 250;
  private closed = false;

  constructor(private readonly options: PostgresApprovalStoreOptions) {
    if (!isSqlIdentifier(options.table)) throw new Error(`table "${options.table}" is not a plain SQL identifier`);
    if (!isSqlIdentifier(options.channel) || options.channel.includes('.')) throw new Error(`channel "${options.channel}" is not a plain SQL identifier`);
    this.pool = new Pool({ connectionString: options.url, max: 4, idleTimeoutMillis: 30_000 });
    // An idle pooled connection that dies must not take the process with it.
    this.pool.on('error', (err) => options.logger.warn('approval store: idle connection failed', { error: err.message }));
  }

  private get table(): string { return this.options.table; }

  async open(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Replicas starting together would race on CREATE TABLE IF NOT EXISTS.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`querygate:${this.table}`]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
        id text PRIMARY KEY,
        version integer NOT NULL,
        gateway text NOT NULL,
        status text NOT NULL,
        subject text NOT NULL,
        fingerprint text NOT NULL,
        created_at timestamptz NOT NULL,
        doc jsonb NOT NULL
      )`);
      const index = this.table.replace('.', '_');
      await client.query(`CREATE INDEX IF NOT EXISTS ${index}_status_idx ON ${this.table} (status, created_at DESC)`);
      await client.query(`CREATE INDEX IF NOT EXISTS ${index}_key_idx ON ${this.table} (subject, fingerprint)`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    await this.listen();
    this.pollTimer = setInterval(() => { void this.poll(); }, this.options.pollIntervalMs);
    this.pollTimer.unref();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.options.url });
    client.on('error', (err) => {
      this.options.logger.warn('approval store: LISTEN connection failed; polling until it is back', { error: err.message });
      this.dropListener(client);
    });
    client.on('end', () => this.dropListener(client));
    client.on('notification', (message) => {
      if (message.channel !== this.options.channel || !message.payload) return;
      let news: { id?: unknown; version?: unknown };
      try {
        news = JSON.parse(message.payload) as { id?: unknown; version?: unknown };
      } catch {
        return;
      }
      if (typeof news.id !== 'string' || typeof news.version !== 'number') return;
      if ((this.known.get(news.id) ?? 0) >= news.version) return;
      void this.refresh([news.id]);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.options.channel}`);
      this.listenClient = client;
      this.reconnectDelay = 250;
      // Whatever changed while we were not listening.
      void this.poll();
    } catch (err) {
      this.options.logger.warn('approval store: cannot LISTEN; polling meanwhile', { error: (err as Error).message });
      this.dropListener(client);
    }
  }

  private dropListener(client: Client): void {
    if (this.listenClient === client) this.listenClient = undefined;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.listen();
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, 10_000);
  }

  private async poll(): Promise<void> {
    if (this.closed || this.watched.size === 0) return;
    await this.refresh([...this.watched.keys()]).catch((err: unknown) => {
      this.options.logger.warn('approval store: poll failed', { error: (err as Error).message });
    });
  }

  /** Reads requests and announces those newer than what listeners heard. */
  private async refresh(ids: readonly string[]): Promise<void> {
    if (this.closed) return;
    const { rows } = await this.pool.query<{ doc: ApprovalRequest }>(`SELECT doc FROM ${this.table} WHERE id = ANY($1::text[])`, [ids]);
    for (const row of rows) this.announce(row.doc);
  }

  private announce(request: ApprovalRequest): void {
    if ((this.known.get(request.id) ?? 0) >= request.version) return;
    if (this.known.size > 10_000) this.known.clear();
    this.known.set(request.id, request.version);
    for (const listener of [...this.listeners]) {
      try {
        listener(request);
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  async create(request: ApprovalRequest): Promise<void> {
    await this.pool.query(
      `WITH row AS (
         INSERT INTO ${this.table} (id, version, gateway, status, subject, fingerprint, created_at, doc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
       ) SELECT pg_notify($9, $10) FROM row`,
      [request.id, request.version, request.gateway, request.status, request.requester.subject, request.statement.fingerprint,
        request.createdAt, JSON.stringify(request), this.options.channel, JSON.stringify({ id: request.id, version: request.version })],
    );
    this.announce(request);
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    const { rows } = await this.pool.query<{ doc: ApprovalRequest }>(`SELECT doc FROM ${this.table} WHERE id = $1`, [id]);
    return rows[0]?.doc;
  }

  async list(query: ApprovalQuery): Promise<ApprovalRequest[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.status && query.status.length > 0) { params.push(query.status); where.push(`status = ANY($${params.length}::text[])`); }
    if (query.subject !== undefined) { params.push(query.subject); where.push(`subject = $${params.length}`); }
    if (query.fingerprint !== undefined) { params.push(query.fingerprint); where.push(`fingerprint = $${params.length}`); }
    if (query.gateway !== undefined) { params.push(query.gateway); where.push(`gateway = $${params.length}`); }
    params.push(Math.min(query.limit ?? DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT));
    const { rows } = await this.pool.query<{ doc: ApprovalRequest }>(
      `SELECT doc FROM ${this.table} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => r.doc);
  }

  async update(id: string, change: ApprovalChange): Promise<UpdateResult> {
    let client: PoolClient | undefined;
    let result: UpdateResult;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      const { rows } = await client.query<{ doc: ApprovalRequest }>(`SELECT doc FROM ${this.table} WHERE id = $1 FOR UPDATE`, [id]);
      const current = rows[0]?.doc;
      if (!current) {
        result = { ok: false, refusal: refusal(404, 'not_found', `no approval request ${id}`) };
      } else {
        const next = change(current);
        if (isRefusal(next)) {
          result = { ok: false, refusal: next };
        } else {
          await client.query(`UPDATE ${this.table} SET version = $2, status = $3, doc = $4 WHERE id = $1`, [id, next.version, next.status, JSON.stringify(next)]);
          await client.query('SELECT pg_notify($1, $2)', [this.options.channel, JSON.stringify({ id, version: next.version })]);
          result = { ok: true, request: next };
        }
      }
      await client.query(result.ok ? 'COMMIT' : 'ROLLBACK');
    } catch (err) {
      await client?.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client?.release();
    }
    if (result.ok) this.announce(result.request);
    return result;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  watch(id: string): () => void {
    this.watched.set(id, (this.watched.get(id) ?? 0) + 1);
    return () => {
      const n = (this.watched.get(id) ?? 1) - 1;
      if (n <= 0) this.watched.delete(id);
      else this.watched.set(id, n);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    this.listeners.clear();
    const listenClient = this.listenClient;
    this.listenClient = undefined;
    await listenClient?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
