import { GatewayError, OrderedQueue } from '../src';

describe('OrderedQueue', () => {
  it('runs tasks one at a time in arrival order, later ones waiting behind a held one', async () => {
    const queue = new OrderedQueue(10);
    const log: string[] = [];
    let release!: () => void;
    const held = queue.push(() => new Promise<void>((r) => { release = () => { log.push('held'); r(); }; }));
    const second = queue.push(() => { log.push('second'); });
    const third = queue.push(async () => { log.push('third'); });
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual([]);
    expect(queue.idle).toBe(false);
    release();
    await Promise.all([held, second, third]);
    expect(log).toEqual(['held', 'second', 'third']);
    expect(queue.idle).toBe(true);
  });

  it('is bounded: past the limit it refuses with QG_QUEUE_FULL', async () => {
    const queue = new OrderedQueue(2);
    let release!: () => void;
    const held = queue.push(() => new Promise<void>((r) => { release = r; }));
    const a = queue.push(() => 'a');
    const b = queue.push(() => 'b');
    await expect(queue.push(() => 'c')).rejects.toMatchObject({ code: 'QG_QUEUE_FULL' });
    release();
    await expect(Promise.all([held, a, b])).resolves.toEqual([undefined, 'a', 'b']);
  });

  it('a failing task does not stop the ones behind it', async () => {
    const queue = new OrderedQueue(5);
    const failed = queue.push(() => { throw new GatewayError('QG_INTERNAL'); });
    const next = queue.push(() => 'ok');
    await expect(failed).rejects.toBeInstanceOf(GatewayError);
    await expect(next).resolves.toBe('ok');
  });
});
