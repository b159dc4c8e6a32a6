import { chown, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ProcessGuard } from './ProcessGuard';
import type { ServiceUser } from './ServiceUser';
import { OWNER_FILE, StaleSweeper } from './StaleSweeper';

/** Fresh per-server temp directories, removed on destroy() or, failing that, when the process exits. */
export class TempDir {
  /** mkdtemp under os.tmpdir(), owned by `owner` so an unprivileged server can write into it. */
  static async create(prefix: string, owner: ServiceUser | null): Promise<string> {
    const base = owner === null ? tmpdir() : await TempDir.baseReachableByOthers();
    StaleSweeper.sweepOnce(base);
    const dir = await mkdtemp(join(base, prefix));
    ProcessGuard.get().trackDir(dir);
    await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
    if (owner !== null) await chown(dir, owner.uid, owner.gid);
    return dir;
  }

  /** "querygate-<kind>-[<name>-]": the name tells parallel servers apart in `ps` and in the temp dir. */
  static prefix(kind: string, name?: string): string {
    const extra = name === undefined || name === '' ? '' : `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}-`;
    return `querygate-${kind}-${extra}`;
  }

  static async remove(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    ProcessGuard.get().untrackDir(dir);
  }

  // A TMPDIR such as /root/tmp is not traversable by the service user; /tmp always is.
  private static async baseReachableByOthers(): Promise<string> {
    let dir = tmpdir();
    for (;;) {
      const s = await stat(dir).catch(() => null);
      if (s === null || (s.mode & 0o001) === 0) return '/tmp';
      const parent = dirname(dir);
      if (parent === dir) return tmpdir();
      dir = parent;
    }
  }
}
