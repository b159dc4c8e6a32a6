import type { ErrorFields } from '../codec/messages';

/**
 * The upstream refused the session for a reason that is the client's business (the database does
 * not exist, too many connections): its ErrorResponse is relayed to the client unchanged.
 */
export class UpstreamStartupError extends Error {
  constructor(readonly fields: ErrorFields, readonly raw: Buffer) {
    super(fields.M ?? 'upstream refused the connection');
    this.name = 'UpstreamStartupError';
  }
}
