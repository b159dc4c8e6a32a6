import type { Socket } from 'node:net';

/**
 * Batches writes to one socket per event-loop turn: buffers pushed during a turn go out in one
 * corked burst (one writev) on the next tick. Reports backpressure when the socket's buffer is
 * full, so the caller can pause the other side.
 */
export class Outbox {
  private queue: Buffer[] = [];
  private scheduled = false;
  // A pass-through range not yet queued: consecutive forwarded messages of one chunk go out as one
  // slice instead of one Buffer each.
  private rangeBuf: Buffer | undefined;
  private rangeStart = 0;
  private rangeEnd = 0;
  private readonly flushNow = (): void => this.flush();

  constructor(public socket: Socket, private readonly onFull: () => void) {}

  /**
   * Queues bytes [start, end) of a received chunk, as a view (no copy). A range that continues the
   * previous one in the same chunk extends it.
   */
  pushRange(buf: Buffer, start: number, end: number): void {
    if (buf === this.rangeBuf && start === this.rangeEnd) {
      this.rangeEnd = end;
      return;
    }
    this.seal();
    this.rangeBuf = buf;
    this.rangeStart = start;
    this.rangeEnd = end;
    this.schedule();
  }

  /** Queues the pending range, so that what is pushed next goes out after it. */
  seal(): void {
    const buf = this.rangeBuf;
    if (buf === undefined) return;
    this.rangeBuf = undefined;
    if (this.rangeEnd > this.rangeStart) this.queue.push(buf.subarray(this.rangeStart, this.rangeEnd));
  }

  push(buf: Buffer): void {
    this.seal();
    this.queue.push(buf);
    this.schedule();
  }

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flushNow);
    }
  }

  flush(): void {
    this.scheduled = false;
    this.seal();
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    let ok: boolean;
    if (queue.length === 1) {
      ok = socket.write(queue[0]!);
    } else {
      socket.cork();
      for (let i = 0; i < queue.length - 1; i++) socket.write(queue[i]!);
      ok = socket.write(queue[queue.length - 1]!);
      socket.uncork();
    }
    if (!ok) this.onFull();
  }

  /** Flushes, then ends the socket once written. */
  end(last?: Buffer): void {
    this.seal();
    if (last) this.queue.push(last);
    this.flush();
    if (!this.socket.destroyed) this.socket.end();
  }
}
