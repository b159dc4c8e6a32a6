import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '@querygate/core';

export interface TelemetryOptions {
  /** `telemetry.otlp.endpoint`: the collector's base URL (`/v1/traces` is added) or the full traces URL. */
  readonly endpoint: string;
  readonly serviceName: string;
  readonly logger: Logger;
  /** Delay between span batches (default 1 s, so a trace shows up quickly). */
  readonly scheduledDelayMillis?: number;
}

export function tracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return base.endsWith('/v1/traces') ? base : `${base}/v1/traces`;
}

/**
 * The OpenTelemetry SDK, started when `telemetry.otlp.endpoint` is configured: spans go to the
 * collector as OTLP/HTTP JSON, batched. Starting it registers the global tracer provider, which is
 * what makes the core create spans for new sessions (without it, sessions create none).
 */
export class Telemetry {
  private stopping: Promise<void> | undefined;

  private constructor(private readonly sdk: NodeSDK, private readonly processor: BatchSpanProcessor, readonly url: string) {}

  static start(options: TelemetryOptions): Telemetry {
    const log = options.logger;
    // The SDK reports export failures (collector down) through diag; a gateway log line, not a crash.
    diag.setLogger({
      error: (message, ...args) => log.warn(`opentelemetry: ${message}`, { detail: args.map(String).join(' ') }),
      warn: (message, ...args) => log.warn(`opentelemetry: ${message}`, { detail: args.map(String).join(' ') }),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    const url = tracesUrl(options.endpoint);
    const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url }), {
      scheduledDelayMillis: options.scheduledDelayMillis ?? 1000,
    });
    const sdk = new NodeSDK({
      serviceName: options.serviceName,
      spanProcessors: [processor],
      instrumentations: [],
      // Resource detection reads the host and process; what matters here is service.name.
      autoDetectResources: false,
    });
    sdk.start();
    log.info('tracing to OpenTelemetry', { url, serviceName: options.serviceName });
    return new Telemetry(sdk, processor, url);
  }

  /** Exports every span ended so far. */
  forceFlush(): Promise<void> { return this.processor.forceFlush(); }

  /** Flushes and stops; unregisters the global providers so sessions stop creating spans. Idempotent. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await this.sdk.shutdown();
      } finally {
        trace.disable();
        context.disable();
        propagation.disable();
        diag.disable();
      }
    })();
    return this.stopping;
  }
}
