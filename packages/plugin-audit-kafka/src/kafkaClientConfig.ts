import { logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '@querygate/core';
import type { KafkaAuditOptions } from './KafkaAuditOptions';

/** The kafkajs client settings for the options: timeouts, quick connection retries, TLS, SASL, logging. */
export function kafkaClientConfig(options: KafkaAuditOptions, logger: Logger): KafkaConfig {
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    // Connection attempts give up quickly: the deliverer has its own endless retry with backoff, and a
    // long kafkajs-internal retry would only delay noticing an outage and shutting down.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    // kafkajs logs every failed connection attempt at error level; during an outage the sink reports
    // the outage once itself, so kafkajs' own lines go to debug.
    logLevel: logLevel.INFO,
    logCreator: () => ({ level, log }: LogEntry) => {
      if (level <= logLevel.INFO) {
        logger.debug(`kafkajs: ${log.message}`, { namespace: log.namespace } as Record<string, unknown>);
      }
    },
  };
  if (options.ssl !== undefined) {
    const { ca, cert, key, rejectUnauthorized } = options.ssl;
    config.ssl = ca === undefined && cert === undefined ? true : {
      rejectUnauthorized,
      ...(ca !== undefined ? { ca: [ca] } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
    };
    if (config.ssl === true && !rejectUnauthorized) config.ssl = { rejectUnauthorized };
  }
  if (options.sasl !== undefined) {
    const { mechanism, username, password } = options.sasl;
    config.sasl = { mechanism, username, password: password.reveal() } as SASLOptions;
  }
  return config;
}
