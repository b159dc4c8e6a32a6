import type { ListenerFactory, ListenerRuntime, ProtocolListener } from '@querygate/core';
import { PostgresListener } from './session/PostgresListener';

/** The PostgreSQL wire adapter: a listener for one `listeners[]` entry with `protocol: postgres`. */
export const createPostgresListener: ListenerFactory = (runtime: ListenerRuntime): ProtocolListener => new PostgresListener(runtime);

export { PostgresListener } from './session/PostgresListener';
export { PostgresAnalyzer } from './analysis/PostgresAnalyzer';

// The codec, for tests and tools.
export { Framer } from './codec/Framer';
export * as codec from './codec/codec';
export { Frontend, Backend, StartupCode, AuthCode } from './codec/messages';
export type {
  StartupPacket, ParseMessage, BindMessage, TargetMessage, ExecuteMessage, FunctionCallMessage, FieldDescription,
  ErrorFields, AuthenticationRequest,
} from './codec/messages';
export { binaryToText, textToBinary, isBinaryConvertible } from './codec/binaryValues';
export { TypeOid, builtinTypeName } from './codec/typeNames';
