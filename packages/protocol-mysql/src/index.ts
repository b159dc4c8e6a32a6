import type { ListenerFactory, ListenerRuntime, ProtocolListener } from '@querygate/core';
import { MysqlListener } from './session/MysqlListener';
import type { MysqlListenerOptions } from './session/SessionServices';

/** The gateway's factory for `protocol: mysql` listeners. */
export const createMysqlListener: ListenerFactory = (runtime: ListenerRuntime): ProtocolListener => new MysqlListener(runtime);

/** The same with adapter options the config file does not carry (tests, embedding). */
export function createMysqlListenerWith(options: MysqlListenerOptions): ListenerFactory {
  return (runtime) => new MysqlListener(runtime, options);
}

export { MysqlListener } from './session/MysqlListener';
export type { MysqlListenerOptions, AuthPluginName } from './session/SessionServices';
export { MysqlAnalyzer } from './analysis/MysqlAnalyzer';

// The codec, for tests and tools.
export * as codec from './codec/codec';
export { PacketFramer } from './codec/PacketFramer';
export { PayloadReader, MalformedPacket } from './codec/PayloadReader';
export { PayloadWriter } from './codec/PayloadWriter';
export { Capability, Command, ColumnType, ServerStatus, columnTypeName } from './codec/constants';
export type * from './codec/messages';
