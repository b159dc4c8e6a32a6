import { GatewayError } from '../GatewayError';

/**
 * Serialises a session's work so that, while one statement is held (awaiting approval) or being
 * judged asynchronously, later client messages wait in arrival order. Bounded: past `limit`
 * waiting tasks, `push` refuses with QG_QUEUE_FULL instead of buffering without end.
 */
export class OrderedQueue {
  private tail: Promise<unknown> = Promise.resolve();
  /** Tasks pushed and not yet finished: the one running plus those waiting behind it. */
  private pending = 0;

  constructor(private readonly limit: number) {}

  /** True when nothing is queued or running: the caller may do its work inline. */
  get idle(): boolean { return this.pending === 0; }
  get depth(): number { return this.pending; }

  push<T>(task: () => T | Promise<T>): Promise<T> {
    if (this.pending > this.limit) {
      return Promise.reject(new GatewayError('QG_QUEUE_FULL', `more than ${this.limit} messages are waiting behind a held statement`));
    }
    this.pending++;
    const run = async (): Promise<T> => {
      try {
        return await task();
      } finally {
        this.pending--;
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
