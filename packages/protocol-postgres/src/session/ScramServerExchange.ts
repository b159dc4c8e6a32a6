import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramVerifier } from '@querygate/core';

/**
 * The server side of one SCRAM-SHA-256 exchange (RFC 5802 / 7677) against a stored verifier. No
 * channel binding: querygate offers only SCRAM-SHA-256, never -PLUS. The user name inside the
 * SCRAM message is ignored, as PostgreSQL does: the startup packet's user is authoritative.
 */
export class ScramServerExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';

  /** `nonceSuffix` is for test vectors only; by default 18 random bytes. */
  constructor(private readonly verifier: ScramVerifier, private readonly nonceSuffix?: string) {}

  /** Handles client-first-message; returns server-first-message, or undefined if malformed. */
  first(clientFirst: string): string | undefined {
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/.exec(clientFirst);
    if (!m || m[1]!.startsWith('p=')) return undefined;
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3]!;
    const clientNonce = attribute(this.clientFirstBare, 'r');
    if (clientNonce === undefined || clientNonce === '') return undefined;
    this.nonce = clientNonce + (this.nonceSuffix ?? randomBytes(18).toString('base64'));
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /** Handles client-final-message; returns server-final-message when the proof is right. */
  final(clientFinal: string): string | undefined {
    const proofAt = clientFinal.lastIndexOf(',p=');
    if (proofAt < 0) return undefined;
    const withoutProof = clientFinal.slice(0, proofAt);
    const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64');
    if (attribute(withoutProof, 'c') !== Buffer.from(this.gs2Header).toString('base64')) return undefined;
    if (attribute(withoutProof, 'r') !== this.nonce) return undefined;
    if (proof.length !== 32) return undefined;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const signature = createHmac('sha256', this.verifier.storedKey).update(authMessage).digest();
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = proof[i]! ^ signature[i]!;
    const stored = createHash('sha256').update(clientKey).digest();
    if (!timingSafeEqual(stored, this.verifier.storedKey)) return undefined;
    const serverSignature = createHmac('sha256', this.verifier.serverKey).update(authMessage).digest();
    return `v=${serverSignature.toString('base64')}`;
  }
}

/** Value of `name=` in a comma-separated SCRAM attribute list. */
export function attribute(message: string, name: string): string | undefined {
  for (const part of message.split(',')) {
    if (part.startsWith(`${name}=`)) return part.slice(name.length + 1);
  }
  return undefined;
}
