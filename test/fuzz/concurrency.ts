// Small async helpers shared by the gateway-level fuzz tests of both protocol packages.

/** Runs `job(0..count-1)` with at most `width` in flight; results in index order. */
export async function pool<T>(count: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) { const i = next++; out[i] = await job(i); }
  }));
  return out;
}

/** Polls `probe` every 100 ms until it returns `expected` or `ms` pass; returns the last value. */
export async function eventually(probe: () => Promise<number> | number, expected: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await probe();
  }
  return value;
}
