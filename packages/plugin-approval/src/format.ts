import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** A request id: short enough to read out and type, 60 random bits. No 0/o/1/l to confuse. */
export function newRequestId(): string {
  const bytes = randomBytes(12);
  let id = 'ar-';
  for (let i = 0; i < 12; i++) id += ALPHABET[bytes[i]! & 31];
  return id;
}

export const REQUEST_ID = /^ar-[a-z0-9]{12}$/;

/** 900000 → "15m", 5400000 → "1h30m", 250 → "250ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) { parts.push(`${Math.floor(rest / size)}${unit}`); rest %= size; }
  }
  return parts.join('');
}

/** `<adminUrl>/console/approvals#<id>`, or undefined without an admin URL. */
export function consoleLink(adminUrl: string | undefined, id: string): string | undefined {
  return adminUrl ? `${adminUrl.replace(/\/+$/, '')}/console/approvals#${id}` : undefined;
}
