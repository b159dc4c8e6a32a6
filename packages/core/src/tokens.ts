/**
 * DI tokens of the gateway's container. Plugin authors do not need them (they get a PluginContext);
 * they are for the gateway's own wiring and for protocol packages.
 */
export const Tokens = {
  Config: Symbol.for('querygate.Config'),
  Logger: Symbol.for('querygate.Logger'),
  AuditTrail: Symbol.for('querygate.AuditTrail'),
  Identities: Symbol.for('querygate.Identities'),
  Interceptor: Symbol.for('querygate.Interceptor'),
  AuditSink: Symbol.for('querygate.AuditSink'),
} as const;

export function capabilityToken(name: string): string {
  return `querygate.capability.${name}`;
}
