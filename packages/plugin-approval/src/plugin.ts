import { join } from 'node:path';
import { Approvals, definePlugin, type PluginContext } from '@querygate/core';
import { ApprovalCoordinator } from './ApprovalCoordinator';
import { parseApprovalOptions, reveal, type StoreOptions } from './ApprovalOptions';
import { consoleLink } from './format';
import { ApprovalApi } from './http/ApprovalApi';
import { ApproverAuthenticator } from './http/ApproverAuthenticator';
import type { ApprovalStore } from './store/ApprovalStore';
import { FileApprovalStore } from './store/FileApprovalStore';
import { MemoryApprovalStore } from './store/MemoryApprovalStore';
import { PostgresApprovalStore } from './store/PostgresApprovalStore';
import { WebhookNotifier } from './WebhookNotifier';

export function createStore(options: StoreOptions, context: PluginContext): ApprovalStore {
  const logger = context.logger.child({ component: 'approval-store' });
  switch (options.type) {
    case 'memory':
      return new MemoryApprovalStore();
    case 'file':
      return new FileApprovalStore({ path: options.path ?? join(context.gateway.dataDir, 'approvals.jsonl'), retentionMs: options.retentionMs, logger });
    case 'postgres':
      return new PostgresApprovalStore({ url: reveal(options.url), table: options.table, channel: options.channel, pollIntervalMs: options.pollIntervalMs, logger });
  }
}

/**
 * The approval plugin: provides the `approvals` capability guardrails hands `approve` rules to,
 * and serves the approvals API and console on the admin server.
 */
export default definePlugin({
  name: 'approval',
  provides: ['approvals'],
  async register(context) {
    const options = parseApprovalOptions(context.options);
    const { logger } = context;
    const auth = new ApproverAuthenticator(options.auth, logger.child({ component: 'approval-auth' }));
    const adminUrl = context.gateway.adminUrl;
    if (!adminUrl) logger.warn('no admin server is configured (config key `admin`): approvers cannot reach the approvals API or console');
    const store = createStore(options.store, context);
    const notifier = new WebhookNotifier(options.webhooks, (id) => consoleLink(adminUrl, id), logger.child({ component: 'approval-webhooks' }));
    const coordinator = new ApprovalCoordinator(options, {
      store,
      gatewayId: context.gateway.id,
      adminUrl,
      logger,
      audit: (event) => context.audit(event),
      notifier,
    });
    try {
      await store.open();
      await coordinator.start();
    } catch (err) {
      await coordinator.shutdown().catch(() => undefined);
      await store.close().catch(() => undefined);
      throw new Error(`approval store (${options.store.type}) cannot start: ${(err as Error).message}`, { cause: err });
    }
    context.provide(Approvals, coordinator);
    const api = new ApprovalApi(coordinator, auth, logger.child({ component: 'approval-api' }));
    for (const route of api.routes()) context.addAdminRoute(route.method, route.path, route.handler);
    context.onShutdown(async () => {
      api.closeStreams();
      await coordinator.shutdown();
      await notifier.shutdown();
      await store.close();
    });
  },
});
