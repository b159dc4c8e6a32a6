import type { Socket } from 'node:net';
import { PacketFramer } from '../codec/PacketFramer';
import type { Packet } from '../codec/messages';

/**
 * Awaitable packet reads for the short exchanges before the command phase (handshakes, auth).
 * The hot path does not use it: sessions frame packets directly in their data handlers.
 */
export class PacketInbox {
  private readonly framer: PacketFramer;
  private waiting: { resolve: (p: Packet) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private socket: Socket;
  private readonly onData = (chunk: Buffer): void => { this.framer.push(chunk); this.deliver(); };
  private readonly onEnd = (): void => { this.fail(new Error('connection closed')); };
  private readonly onError = (err: Error): void => { this.fail(err); };

  constructor(socket: Socket, maxPayload: number) {
    this.framer = new PacketFramer(maxPayload);
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  /** Stops listening (before a TLS upgrade, or when the command phase takes over). */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    return this.framer.drain();
  }

  /** Continues on another socket (the TLS socket wrapping the old one). */
  rebind(socket: Socket): void {
    this.detach();
    this.socket = socket;
    this.attach(socket);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.failure);
  }

  private deliver(): void {
    if (!this.waiting) return;
    let packet: Packet | undefined;
    try {
      packet = this.framer.next();
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (!packet) return;
    const w = this.waiting;
    this.waiting = undefined;
    w.resolve(packet);
  }

  next(): Promise<Packet> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Packet>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.deliver();
    });
  }
}
