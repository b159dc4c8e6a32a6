import type { GatewayError } from './GatewayError';

export interface Allow { readonly action: 'allow' }
export interface Deny { readonly action: 'deny'; readonly error: GatewayError }
/**
 * A pending decision (an approval). The session's statement stream pauses at this statement until
 * `decision` settles; messages the client pipelines meanwhile wait in order (bounded).
 */
export interface Hold {
  readonly action: 'hold';
  readonly decision: Promise<Allow | Deny>;
  /** Told to the client at once where the protocol can (PostgreSQL NoticeResponse). */
  readonly notice?: string;
  /** Called when the session ends or the client cancels before a decision. */
  readonly cancel?: (reason: string) => void;
  /** Rule that asked for the hold, for audit. */
  readonly rule?: string;
}

export type Verdict = Allow | Deny | Hold;

const ALLOW: Allow = Object.freeze({ action: 'allow' });

export const Verdicts = {
  allow(): Allow { return ALLOW; },
  deny(error: GatewayError): Deny { return { action: 'deny', error }; },
  hold(decision: Promise<Allow | Deny>, info: Omit<Hold, 'action' | 'decision'> = {}): Hold {
    return { action: 'hold', decision, ...info };
  },
} as const;
