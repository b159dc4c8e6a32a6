import { GatewayError } from '@querygate/core';
import type { ErrorFields } from '../codec/messages';
import { errorResponse } from '../codec/serializer';

/** ErrorResponse fields for a GatewayError: its SQLSTATE, the rule named in the message, DETAIL, HINT. */
export function errorFields(err: GatewayError, severity: 'ERROR' | 'FATAL' = err.severity): ErrorFields {
  const fields: Record<string, string> = {
    S: severity,
    V: severity,
    C: err.sqlstate,
    M: err.rule ? `${err.message} (rule: ${err.rule})` : err.message,
  };
  if (err.detail) fields.D = err.detail;
  if (err.hint) fields.H = err.hint;
  return fields;
}

export function errorMessage(err: GatewayError, severity?: 'ERROR' | 'FATAL'): Buffer {
  return errorResponse(errorFields(err, severity));
}

/** Any failure as a client-fit error: GatewayErrors as they are, anything else QG_INTERNAL. */
export function clientError(err: unknown): GatewayError {
  return GatewayError.from(err);
}
