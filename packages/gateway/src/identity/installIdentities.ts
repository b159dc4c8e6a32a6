import { randomUUID } from 'node:crypto';
import type { Gateway } from '@querygate/core';
import { OidcVerifier } from './OidcVerifier';
import { TokenExchange } from './TokenExchange';

/**
 * Adds the OIDC verifier (tokens presented as passwords) and, with an admin server, the token
 * exchange endpoint `POST /api/token-exchange`.
 */
export function installIdentities(gateway: Gateway): void {
  const { config } = gateway;
  if (config.identities.oidc.length === 0) return;
  const verifier = new OidcVerifier(config.identities.oidc);
  gateway.identities.addVerifier(verifier);
  const exchange = new TokenExchange(verifier, gateway.identities, config.identities.exchange.ttl, gateway.logger.child({ component: 'token-exchange' }),
    (subject, outcome, reason) => {
      gateway.trail.emit({
        event: outcome === 'issued' ? 'credential.issued' : 'auth.failed',
        sessionId: `token-exchange:${randomUUID()}`,
        seq: 1,
        claimedUser: subject || undefined,
        error: reason ? { code: 'QG_AUTH_FAILED', message: reason } : undefined,
      });
    });
  gateway.adminRoutes.push({ method: 'POST', path: '/api/token-exchange', plugin: 'identities', handler: exchange.handler });
}
