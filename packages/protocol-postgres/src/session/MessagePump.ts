import type { Socket } from 'node:net';
import { Framer } from '../codec/Framer';

/** What a MessagePump delivers messages to. */
export interface MessageHandler {
  /**
   * One complete message, at the framer's current position. Returning a promise pauses the
   * stream (socket.pause(); bytes that already arrived stay buffered in the framer) until it
   * settles; later messages then continue in order.
   */
  onMessage(framer: Framer): void | Promise<void>;
  /** End of a run of messages: flush whatever was coalesced from the framer's buffer. */
  onBatchEnd(): void;
  onFailure(err: unknown): void;
}

/**
 * Reads one socket, frames messages and hands them to a handler in order, pausing for
 * asynchronous work (judgements, catalog look-ups) and for backpressure from the other side.
 */
export class MessagePump {
  readonly framer: Framer;
  private holds = 0;
  private waiting = false;
  private stopped = false;
  private socket: Socket | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.framer.push(chunk);
    this.run();
  };

  constructor(private readonly handler: MessageHandler, untagged = false) {
    this.framer = new Framer(untagged);
  }

  /** True while a message's asynchronous work is pending. */
  get busy(): boolean { return this.waiting; }

  attach(socket: Socket, initial?: Buffer): void {
    this.socket = socket;
    if (initial && initial.length > 0) this.framer.push(initial);
    socket.on('data', this.onData);
    this.run();
    if (this.holds === 0 && !this.waiting) socket.resume();
  }

  detach(): void {
    this.socket?.removeListener('data', this.onData);
    this.socket = undefined;
  }

  stop(): void {
    this.stopped = true;
    this.detach();
  }

  /** Backpressure: stop reading until `resume`. Nested calls count. */
  pause(): void {
    this.holds++;
    this.socket?.pause();
  }

  resume(): void {
    if (this.holds > 0) this.holds--;
    if (this.holds === 0 && !this.waiting && !this.stopped) {
      this.socket?.resume();
      this.run();
    }
  }

  run(): void {
    if (this.waiting || this.stopped) return;
    const framer = this.framer;
    const handler = this.handler;
    try {
      while (this.holds === 0 && framer.next()) {
        const pending = handler.onMessage(framer);
        if (pending !== undefined) {
          this.waiting = true;
          this.socket?.pause();
          handler.onBatchEnd();
          pending.then(() => {
            this.waiting = false;
            if (this.stopped) return;
            if (this.holds === 0) this.socket?.resume();
            this.run();
          }, (err: unknown) => {
            this.waiting = false;
            handler.onFailure(err);
          });
          return;
        }
        if (this.stopped) return;
      }
      handler.onBatchEnd();
    } catch (err) {
      handler.onFailure(err);
    }
  }
}
