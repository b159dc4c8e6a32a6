import type { Identity } from '../Identity';
import type { AccessRule } from '../config/schema';

/** Which identities may open which listener and database. No rules: every identity may. */
export class AccessPolicy {
  constructor(private readonly rules: readonly AccessRule[] | undefined) {}

  allows(identity: Identity, listener: string, database: string): boolean {
    if (!this.rules) return true;
    return this.rules.some((rule) =>
      rule.groups.some((g) => g === '*' || identity.groups.includes(g)) &&
      rule.listeners.some((l) => glob(l, listener)) &&
      rule.databases.some((d) => glob(d, database)));
  }
}

/** `*` matches any run of characters; everything else literally. */
export function glob(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}
