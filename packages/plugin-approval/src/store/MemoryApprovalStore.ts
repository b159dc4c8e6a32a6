import type { ApprovalRequest } from '../ApprovalRequest';
import { isRefusal, refusal } from '../transitions';
import type { ApprovalChange, ApprovalQuery, ApprovalStore, ChangeListener, UpdateResult } from './ApprovalStore';
import { applyQuery } from './query';

/**
 * Requests in a Map: the test double, and the index the file store keeps in front of its log.
 * `update` reads, changes and writes the Map in one synchronous step, so it is atomic in a
 * single process; subclasses persist each change before listeners hear it.
 */
export class MemoryApprovalStore implements ApprovalStore {
  protected readonly requests = new Map<string, ApprovalRequest>();
  private readonly listeners = new Set<ChangeListener>();

  async open(): Promise<void> {}

  async create(request: ApprovalRequest): Promise<void> {
    if (this.requests.has(request.id)) throw new Error(`approval request ${request.id} already exists`);
    this.requests.set(request.id, request);
    try {
      await this.persist(request, false);
    } catch (err) {
      this.requests.delete(request.id);
      throw err;
    }
    this.emit(request);
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    return this.requests.get(id);
  }

  async list(query: ApprovalQuery): Promise<ApprovalRequest[]> {
    return applyQuery(this.requests.values(), query);
  }

  async update(id: string, change: ApprovalChange): Promise<UpdateResult> {
    const current = this.requests.get(id);
    if (!current) return { ok: false, refusal: refusal(404, 'not_found', `no approval request ${id}`) };
    const next = change(current);
    if (isRefusal(next)) return { ok: false, refusal: next };
    this.requests.set(id, next);
    try {
      await this.persist(next, true);
    } catch (err) {
      // Not on disk means not decided: put the old state back so nobody acts on it.
      if (this.requests.get(id) === next) this.requests.set(id, current);
      throw err;
    }
    this.emit(next);
    return { ok: true, request: next };
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  watch(_id: string): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  /** Writes one change; `decision` asks for it to be durable before returning. */
  protected async persist(_request: ApprovalRequest, _decision: boolean): Promise<void> {}

  protected emit(request: ApprovalRequest): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(request);
      } catch {
        // A listener's failure is its own; the change is stored either way.
      }
    }
  }
}
