import { GatewayError } from '@querygate/core';
import { MAX_MESSAGE_LENGTH, MAX_STARTUP_LENGTH } from './messages';

const EMPTY = Buffer.alloc(0);

/**
 * Splits a byte stream into PostgreSQL messages by advancing a cursor over the incoming chunk; only
 * an incomplete tail is kept for the next chunk (and a large message being assembled is collected
 * as a list of chunks, concatenated once, instead of re-copied per chunk).
 *
 * After `next()` returns true, the message is `buffer[start, end)`: `type` is its type byte (0 for
 * an untagged startup packet) and its body starts at `bodyStart`. The fields are reused, so a
 * caller copies what it keeps.
 */
export class Framer {
  /** Startup phase: messages have no type byte (StartupMessage, SSLRequest, CancelRequest...). */
  untagged: boolean;
  type = 0;
  start = 0;
  bodyStart = 0;
  end = 0;
  private buf: Buffer = EMPTY;
  private pos = 0;
  private pending: Buffer[] | undefined;
  private pendingBytes = 0;
  private needed = 0;

  constructor(untagged = false, private readonly maxLength: number = MAX_MESSAGE_LENGTH) {
    this.untagged = untagged;
  }

  /** The buffer the current message lies in. */
  get buffer(): Buffer { return this.buf; }

  /** Bytes received and not yet returned as messages. */
  get buffered(): number { return this.buf.length - this.pos + this.pendingBytes; }

  push(chunk: Buffer): void {
    if (this.pending !== undefined) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.needed) return;
      this.buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pos = 0;
      this.pending = undefined;
      this.pendingBytes = 0;
      return;
    }
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    }
    this.pos = 0;
  }

  /** Unconsumed bytes (handed over when the stream changes hands, e.g. after startup). */
  takeRest(): Buffer {
    const rest = this.pending !== undefined
      ? Buffer.concat(this.pending, this.pendingBytes)
      : this.buf.subarray(this.pos);
    this.buf = EMPTY;
    this.pos = 0;
    this.pending = undefined;
    this.pendingBytes = 0;
    return rest;
  }

  /**
   * Advances to the next complete message. False when only an incomplete tail remains. Throws
   * QG_PROTOCOL_VIOLATION for a length no message can have.
   */
  next(): boolean {
    if (this.pending !== undefined) return false;
    const buf = this.buf;
    const pos = this.pos;
    const available = buf.length - pos;
    let total: number;
    if (this.untagged) {
      if (available < 4) return false;
      const length = buf.readInt32BE(pos);
      if (length < 8 || length > MAX_STARTUP_LENGTH) {
        throw new GatewayError('QG_PROTOCOL_VIOLATION', `invalid startup packet length ${length}`);
      }
      total = length;
      this.type = 0;
      this.bodyStart = pos + 4;
    } else {
      if (available < 5) return false;
      const length = buf.readInt32BE(pos + 1);
      if (length < 4 || length > this.maxLength) {
        throw new GatewayError('QG_PROTOCOL_VIOLATION', `invalid message length ${length} for message type 0x${buf[pos]!.toString(16)}`);
      }
      total = length + 1;
      this.type = buf[pos]!;
      this.bodyStart = pos + 5;
    }
    if (available < total) {
      // A message much larger than what arrived: collect chunks instead of re-copying the tail.
      if (total > 65536) {
        this.pending = [buf.subarray(pos)];
        this.pendingBytes = available;
        this.needed = total;
        this.buf = EMPTY;
        this.pos = 0;
      }
      return false;
    }
    this.start = pos;
    this.end = pos + total;
    this.pos = this.end;
    return true;
  }
}
