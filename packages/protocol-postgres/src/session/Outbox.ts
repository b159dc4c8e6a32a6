import type { Socket } from 'node:net';

/**
 * Batches writes to one socket per event-loop turn: buffers pushed during a turn go out in one
 * corked burst (one writev) on the next tick. Reports backpressure when the socket's buffer is
 * full, so the caller can pause the other side.
 */
export class Outbox {
  private queue: Buffer[] = [];
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  constructor(public socket: Socket, private readonly onFull: () => void) {}

  push(buf: Buffer): void {
    this.queue.push(buf);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flushNow);
    }
  }

  flush(): void {
    this.scheduled = false;
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
    if (last) this.queue.push(last);
    this.flush();
    if (!this.socket.destroyed) this.socket.end();
  }
}
