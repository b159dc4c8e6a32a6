import { randomBytes } from 'node:crypto';

/** Throwaway credentials: hex only, so they can be pasted into SQL literals and URLs without quoting. */
export class Secrets {
  static password(bytes = 12): string {
    return randomBytes(bytes).toString('hex');
  }
}
