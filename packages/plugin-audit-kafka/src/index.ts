// @querygate/plugin-audit-kafka: audit events to Kafka through a local spool, so none is lost.
import { kafkaAuditPlugin } from './KafkaAuditPlugin';

export default kafkaAuditPlugin;
export { kafkaAuditPlugin };
export { KafkaAuditSink } from './KafkaAuditSink';
export type { KafkaAuditStatus, KafkaAuditSinkDeps } from './KafkaAuditSink';
export { parseKafkaAuditOptions, DEFAULT_TOPIC } from './KafkaAuditOptions';
export { kafkaClientConfig } from './kafkaClientConfig';
export type {
  KafkaAuditOptions, OutputFormat, FsyncPolicy, Compression, SaslMechanismName, TlsOptions, SaslOptions, SpoolOptions,
  SecretLike,
} from './KafkaAuditOptions';
export { toKafkaRecord, Headers } from './KafkaRecord';
export type { KafkaRecord } from './KafkaRecord';
export { toOcsf, parseEndpoint, OCSF_VERSION, OcsfClass, DatastoreActivity, AuthenticationActivity, Severity, Status } from './ocsf/toOcsf';
export type { OcsfEvent, OcsfUser, OcsfEndpoint } from './ocsf/toOcsf';
export { Spool } from './spool/Spool';
export type { SpoolPosition, SpoolBatch } from './spool/Spool';
