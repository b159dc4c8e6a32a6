import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Name of the file in each server temp dir that records which Node process owns it. */
export const OWNER_FILE = '.querygate-owner';

/**
 * Cleans up after test runs that died too hard for ProcessGuard to act (SIGKILL, OOM, a CI time-out):
 * a querygate-* temp dir whose owner process is gone is removed, together with any server process whose
 * command line still points into it. Servers of live test runs are never touched.
 */
export class StaleSweeper {
  private static swept = new Set<string>();

  /** Sweeps `base` once per process. Best effort: never throws. */
  static sweepOnce(base: string): void {
    if (StaleSweeper.swept.has(base)) return;
    StaleSweeper.swept.add(base);
    try {
      for (const entry of readdirSync(base)) {
        if (!entry.startsWith('querygate-')) continue;
        const dir = join(base, entry);
        const owner = StaleSweeper.ownerOf(dir);
        if (owner === null || owner === process.pid || StaleSweeper.isAlive(owner)) continue;
        StaleSweeper.killProcessesUsing(dir);
        rmSync(dir, { recursive: true, force: true });
      }
    } catch {
      // Sweeping is a courtesy; a fresh server does not depend on it.
    }
  }

  private static ownerOf(dir: string): number | null {
    try {
      const pid = Number(readFileSync(join(dir, OWNER_FILE), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  private static isAlive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  // Matching on the dir path in the command line (postgres -D, mariadbd --datadir, java ... server.properties)
  // is what makes this safe against pid reuse: only our own orphaned servers mention the dir.
  private static killProcessesUsing(dir: string): void {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    } catch {
      return;
    }
    for (const pid of pids) {
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!cmdline.split('\0').some((arg) => arg.includes(`${dir}/`))) continue;
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
}
