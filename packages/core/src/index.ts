// Plugin API: what an interceptor author needs.
export type { Identity, AuthMethod } from './Identity';
export type { Session, Protocol } from './Session';
export type {
  Statement, StatementKind, ObjectRef, ColumnRef, RiskFlag, Lineage, OutputColumnLineage, ColumnAssignment,
} from './Statement';
export { STATEMENT_KINDS, RISK_FLAGS } from './Statement';
export type { Verdict, Allow, Deny, Hold } from './Verdict';
export { Verdicts } from './Verdict';
export type { ResultSet, ResultColumn, RowTransform, ValueMask, RowObserver } from './ResultSet';
export type { Interceptor, StatementContext, StatementOutcome, SessionSummary, ServerError, ServerErrorText, ErrorContext } from './Interceptor';
export type { AuditEvent, AuditEventType } from './AuditEvent';
export { AUDIT_SCHEMA_VERSION } from './AuditEvent';
export type { AuditSink, ExportResult } from './AuditSink';
export { GatewayError, ErrorTable } from './GatewayError';
export type { GatewayErrorCode, ErrorRow, GatewayErrorOptions } from './GatewayError';
export type { Logger, LogFields, LogLevel } from './Logger';
export type { RelationInfo, ViewColumn, RelationCatalog, RelationCatalogs, RoutineInfo, RoutineBody, RoutineSource } from './Relations';
export { RelationCatalogCapability, followRoutine } from './Relations';
export type { QuerygatePlugin, PluginContext, Capability, AuditEventInput, AdminRouteHandler } from './Plugin';
export { definePlugin, capability, PluginOptionsError } from './Plugin';

// Runtime: for protocol adapters and the gateway binary.
export { Pipeline } from './pipeline/Pipeline';
export type { PipelineOptions, HoldListener } from './pipeline/Pipeline';
export { GatewaySession, statementSummary } from './pipeline/GatewaySession';
export type { StatementRun, Completion, Decided, SessionEvent, SessionObservers } from './pipeline/GatewaySession';
export { OrderedQueue } from './pipeline/OrderedQueue';
export { StatementCache } from './StatementCache';
export { AuditTrail } from './audit/AuditTrail';
export type { AuditTrailOptions } from './audit/AuditTrail';
export { FileAuditSink } from './audit/FileAuditSink';
export { StdoutAuditSink } from './audit/StdoutAuditSink';
export { LocalUser, scramVerifier } from './identity/LocalUser';
export type { ScramVerifier } from './identity/LocalUser';
export { IdentityDirectory, IdentityRejected } from './identity/IdentityProvider';
export type { PasswordVerifier, PasswordContext } from './identity/IdentityProvider';
export { AccessPolicy, glob } from './identity/AccessPolicy';
export { Gateway } from './runtime/Gateway';
export type { GatewayOptions, AdminRoute } from './runtime/Gateway';
export { JsonLogger, silentLogger } from './runtime/JsonLogger';
export type { ListenerRuntime, ProtocolListener, ListenerFactory, SessionInit, AuthFailure } from './runtime/ListenerRuntime';
export { Tokens, capabilityToken } from './tokens';

// Configuration.
export { configSchema } from './config/schema';
export type {
  GatewayConfig, ListenerConfig, UpstreamConfig, LocalUserConfig, OidcIssuerConfig, AccessRule, PluginConfig,
} from './config/schema';
export { loadConfigFile, parseConfig } from './config/loadConfig';
export type { LoadedConfig, LoadOptions } from './config/loadConfig';
export { ConfigError } from './config/ConfigError';
export type { ConfigProblem } from './config/ConfigError';
export { Secret } from './config/Secret';
export { parseDuration } from './config/duration';
export { Approvals } from './Approvals';
export type { ApprovalService, ApprovalReason } from './Approvals';

// Observability: metrics, traces, session recordings.
export { Metrics, LATENCY_BUCKETS } from './telemetry/Metrics';
export type {
  MetricsRegistry, Counter, Gauge, Histogram, CounterChild, GaugeChild, HistogramChild, LabelValues, Collected,
  MetricOptions, HistogramOptions,
} from './telemetry/Metrics';
export { GatewayMetrics } from './telemetry/GatewayMetrics';
export type { SessionMetrics } from './telemetry/GatewayMetrics';
export { SessionTrace, tracingActive, TRACER_NAME } from './telemetry/SessionTrace';
export type { StatementSpans } from './telemetry/SessionTrace';
export { traceparentOf } from './telemetry/traceparent';
export { tracedInterceptor } from './telemetry/tracedInterceptor';
export { Recorder, recordingFileName } from './recording/Recorder';
export type { RecorderOptions } from './recording/Recorder';
export { SessionRecording } from './recording/SessionRecording';
export type { SessionRecordingOptions } from './recording/SessionRecording';
export { RecordingStore, RecordingNotFound } from './recording/RecordingStore';
export type { RecordingSummary, Recording } from './recording/RecordingStore';
export { sealRecord, verifyLines, sha256 } from './recording/chain';
export type { VerifyResult, ChainProblem } from './recording/chain';
export { RECORDING_FORMAT, GENESIS_HASH } from './recording/records';
export type {
  RecordingRecord, SessionHeaderRecord, StatementRecord, VerdictRecord, ResultRecord, CompleteRecord, EventRecord, EndRecord,
  StatementTextMode, UnchainedRecord,
} from './recording/records';
