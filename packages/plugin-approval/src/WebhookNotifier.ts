import type { Logger } from '@querygate/core';
import type { ApprovalRequest } from './ApprovalRequest';
import { reveal, type WebhookOptions } from './ApprovalOptions';

export type WebhookEvent = 'requested' | 'decided';

/** The JSON body of a `format: json` webhook. */
export interface ApprovalWebhookBody {
  readonly event: `approval.${WebhookEvent}`;
  readonly request: ApprovalRequest;
  /** The console page for the request, when the admin URL is known. */
  readonly url?: string;
}

/**
 * Posts approval news to webhooks in the background: never on the statement path, each delivery
 * retried with exponential backoff up to its attempt limit, then dropped with a warning.
 * Logs name the webhook by index, never by URL (Slack URLs carry a token).
 */
export class WebhookNotifier {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  private stopped = false;

  constructor(
    private readonly hooks: readonly WebhookOptions[],
    private readonly consoleUrl: (id: string) => string | undefined,
    private readonly logger: Logger,
  ) {}

  notify(event: WebhookEvent, request: ApprovalRequest): void {
    if (this.stopped) return;
    this.hooks.forEach((hook, index) => {
      if (!hook.events.includes(event)) return;
      const task = this.deliver(hook, index, event, request).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    });
  }

  private async deliver(hook: WebhookOptions, index: number, event: WebhookEvent, request: ApprovalRequest): Promise<void> {
    const body = JSON.stringify(hook.format === 'slack' ? slackMessage(event, request, this.consoleUrl(request.id)) : jsonMessage(event, request, this.consoleUrl(request.id)));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [k, v] of Object.entries(hook.headers)) headers[k] = reveal(v);
    for (let attempt = 1; attempt <= hook.attempts; attempt++) {
      if (this.stopped) return;
      let problem: string;
      try {
        const response = await fetch(reveal(hook.url), {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(hook.timeoutMs)]),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return;
        problem = `HTTP ${response.status}`;
        // A 4xx other than 408/429 will not get better by retrying.
        if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) attempt = hook.attempts;
      } catch (err) {
        if (this.stopped) return;
        problem = (err as Error).message;
      }
      if (attempt >= hook.attempts) {
        this.logger.warn('approval webhook gave up', { webhook: index, requestId: request.id, event, attempts: attempt, error: problem });
        return;
      }
      const delay = hook.backoffMs * 2 ** (attempt - 1);
      this.logger.debug('approval webhook failed; retrying', { webhook: index, requestId: request.id, attempt, delayMs: delay, error: problem });
      await sleep(delay, this.controller.signal);
    }
  }

  /** Waits up to `graceMs` for deliveries in flight, then abandons the rest. Idempotent. */
  async shutdown(graceMs = 2_000): Promise<void> {
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); }),
      ]);
      clearTimeout(timer);
    }
    this.stopped = true;
    this.controller.abort();
    await Promise.allSettled([...this.inFlight]);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => { signal.removeEventListener('abort', done); resolve(); }, ms);
    const done = (): void => { clearTimeout(timer); resolve(); };
    signal.addEventListener('abort', done, { once: true });
  });
}

export function jsonMessage(event: WebhookEvent, request: ApprovalRequest, url: string | undefined): ApprovalWebhookBody {
  return url ? { event: `approval.${event}`, request, url } : { event: `approval.${event}`, request };
}

/** Slack's incoming-webhook shape: `text` for notifications, `blocks` for the message. */
export function slackMessage(event: WebhookEvent, request: ApprovalRequest, url: string | undefined): { text: string; blocks: unknown[] } {
  const who = request.requester.subject;
  const where = `${request.listener}/${request.database}`;
  const text = event === 'requested'
    ? `Approval needed: ${who} wants to run a ${request.statement.command.replace(/_/g, ' ')} on ${where} (rule ${request.rule}), request ${request.id}`
    : `Approval request ${request.id} by ${who} was ${request.status}${request.decidedBy ? ` by ${request.decidedBy.join(', ')}` : ''}${request.reason ? `: ${request.reason}` : ''}`;
  const statement = request.statement.text.length > 2_800 ? `${request.statement.text.slice(0, 2_800)}…` : request.statement.text;
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(text) } },
    { type: 'section', text: { type: 'mrkdwn', text: '```' + statement.replace(/```/g, "'''") + '```' } },
  ];
  if (url) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: event === 'requested' ? 'Review' : 'Open' }, url }] });
  return { text, blocks };
}

function escapeSlack(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
