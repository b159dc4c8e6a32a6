/** Helpers for waiting on servers that become ready at some point. */
export class Poll {
  static sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /**
   * Calls `check` until it returns true, `abort` returns an error message, or `timeoutMs` passes.
   * Rejects with `describe()` appended so startup failures carry the server's log.
   */
  static async until(
    check: () => Promise<boolean>,
    opts: { timeoutMs: number; intervalMs?: number; what: string; abort?: () => string | null; describe?: () => string },
  ): Promise<void> {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const aborted = opts.abort?.() ?? null;
      if (aborted !== null) throw new Error(`${opts.what}: ${aborted}${Poll.details(opts.describe)}`);
      if (await check()) return;
      if (Date.now() > deadline) {
        throw new Error(`${opts.what}: not ready after ${opts.timeoutMs} ms${Poll.details(opts.describe)}`);
      }
      await Poll.sleep(opts.intervalMs ?? 100);
    }
  }

  private static details(describe: (() => string) | undefined): string {
    const text = describe?.().trim() ?? '';
    return text === '' ? '' : `\n--- log tail ---\n${text}`;
  }
}
