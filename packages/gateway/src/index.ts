export { GatewayServer } from './GatewayServer';
export type { GatewayServerOptions, RunningAddresses } from './GatewayServer';
export { AdminServer } from './AdminServer';
export { pluginLoader, BUILT_IN_PLUGINS } from './PluginLoader';
export { main } from './cli';
export { default as guardrails, guardrailsInterceptor, parseGuardrailsOptions } from './guardrails';
export type { GuardrailRule, GuardrailMatch, GuardrailAction, GuardrailsOptions } from './guardrails';
