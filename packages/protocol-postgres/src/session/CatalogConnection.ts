import type { UpstreamConfig } from '@querygate/core';
import { Framer } from '../codec/Framer';
import { Backend } from '../codec/messages';
import { parseDataRow, parseErrorFields } from '../codec/parser';
import { query as queryMessage, terminate } from '../codec/serializer';
import { connectUpstream, type UpstreamLink } from './UpstreamConnector';

interface PendingQuery {
  readonly sql: string;
  readonly rows: (string | null)[][];
  readonly resolve: (rows: (string | null)[][]) => void;
  readonly reject: (err: Error) => void;
  error?: Error;
}

/**
 * A side connection to the upstream database for catalog look-ups (column origins, type and
 * function names), with querygate's own credentials. Simple Query protocol, one query at a time,
 * queued. Reconnects on the next query after a failure.
 */
export class CatalogConnection {
  private link: Promise<UpstreamLink> | undefined;
  private readonly queue: PendingQuery[] = [];
  private running = false;
  private closed = false;

  constructor(private readonly config: UpstreamConfig, private readonly listener: string, private readonly database: string) {}

  query(sql: string): Promise<(string | null)[][]> {
    if (this.closed) return Promise.reject(new Error('catalog connection closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ sql, rows: [], resolve, reject });
      this.pump();
    });
  }

  close(): void {
    this.closed = true;
    const link = this.link;
    this.link = undefined;
    void link?.then((l) => { l.socket.end(terminate()); l.socket.destroy(); }, () => undefined);
    for (const q of this.queue.splice(0)) q.reject(new Error('catalog connection closed'));
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    this.link ??= this.open();
    this.link.then((link) => this.run(link, this.queue[0]!), (err: Error) => {
      this.link = undefined;
      this.running = false;
      for (const q of this.queue.splice(0)) q.reject(err);
    });
  }

  private open(): Promise<UpstreamLink> {
    return connectUpstream(this.config, {
      listener: this.listener,
      database: this.database,
      parameters: { application_name: 'querygate-catalog', client_encoding: 'UTF8' },
    }).then((link) => {
      link.socket.on('error', () => undefined);
      link.socket.on('close', () => {
        this.link = undefined;
        const current = this.running ? this.queue.shift() : undefined;
        this.running = false;
        current?.reject(new Error('catalog connection lost'));
        if (!this.closed) this.pump();
      });
      // The side connection must never keep the process alive on its own.
      link.socket.unref();
      return link;
    });
  }

  private run(link: UpstreamLink, pending: PendingQuery): void {
    const framer = new Framer(false);
    const socket = link.socket;
    const onData = (chunk: Buffer): void => {
      framer.push(chunk);
      try {
        while (framer.next()) {
          const buf = framer.buffer;
          switch (framer.type) {
            case Backend.DataRow:
              pending.rows.push(parseDataRow(buf, framer.bodyStart, framer.end).map((v) => (v === null ? null : v.toString('utf8'))));
              break;
            case Backend.ErrorResponse:
              pending.error = new Error(parseErrorFields(buf, framer.bodyStart, framer.end).M ?? 'catalog query failed');
              break;
            case Backend.ReadyForQuery:
              socket.removeListener('data', onData);
              socket.pause();
              this.queue.shift();
              this.running = false;
              if (pending.error) pending.reject(pending.error); else pending.resolve(pending.rows);
              this.pump();
              return;
            default:
              break;
          }
        }
      } catch (err) {
        socket.destroy(err as Error);
      }
    };
    socket.on('data', onData);
    socket.resume();
    socket.write(queryMessage(pending.sql));
  }
}
