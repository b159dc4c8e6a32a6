import { isAbsolute, join, resolve } from 'node:path';
import { definePlugin, type QuerygatePlugin } from '@querygate/core';
import { parseKafkaAuditOptions } from './KafkaAuditOptions';
import { KafkaAuditSink } from './KafkaAuditSink';

/**
 * `plugins: [{ use: "@querygate/plugin-audit-kafka", options: { brokers: [...] } }]`: validates the
 * options, adds the Kafka sink to the audit trail (which flushes and shuts it down at gateway
 * shutdown) and starts delivering whatever a previous run left in the spool.
 */
export const kafkaAuditPlugin: QuerygatePlugin = definePlugin({
  name: 'audit-kafka',
  register(ctx) {
    const options = parseKafkaAuditOptions(ctx.options);
    const configured = options.spool.dir;
    const spoolDir = configured === undefined
      ? join(ctx.gateway.dataDir, 'spool')
      : isAbsolute(configured) ? configured : resolve(configured);
    const sink = new KafkaAuditSink(options, { logger: ctx.logger, spoolDir });
    sink.start();
    ctx.addAuditSink(sink);
  },
});
