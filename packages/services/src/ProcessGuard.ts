import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const EXIT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Last line of defence against orphaned servers: if the Node process exits (or is told to) without the
 * normal stop()/destroy() teardown, every still-running child we started is SIGKILLed and every
 * registered temp dir removed. Only synchronous work is possible in an 'exit' handler, hence SIGKILL.
 */
export class ProcessGuard {
  private static instance: ProcessGuard | undefined;
  private readonly children = new Set<ChildProcess>();
  private readonly dirs = new Set<string>();

  static get(): ProcessGuard {
    if (ProcessGuard.instance === undefined) ProcessGuard.instance = new ProcessGuard();
    return ProcessGuard.instance;
  }

  private constructor() {
    process.on('exit', () => this.cleanupSync());
    for (const sig of EXIT_SIGNALS) {
      const onSignal = (): void => {
        this.cleanupSync();
        // Only restore the default "die by this signal" when nobody else (jest, the app) handles it.
        if (process.listenerCount(sig) === 1) {
          process.removeListener(sig, onSignal);
          process.kill(process.pid, sig);
        }
      };
      process.on(sig, onSignal);
    }
  }

  track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  trackDir(dir: string): void {
    this.dirs.add(dir);
  }

  untrackDir(dir: string): void {
    this.dirs.delete(dir);
  }

  private cleanupSync(): void {
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    this.children.clear();
    for (const dir of this.dirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // Best effort: a dying process cannot report anything useful.
      }
    }
    this.dirs.clear();
  }
}
