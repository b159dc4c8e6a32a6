import type { ApprovalRequest, ApprovalStatus } from '../ApprovalRequest';
import type { Refusal } from '../transitions';

/** What the admin API's list filters on. Results are newest first. */
export interface ApprovalQuery {
  readonly status?: readonly ApprovalStatus[];
  readonly subject?: string;
  readonly fingerprint?: string;
  readonly gateway?: string;
  readonly limit?: number;
}

/** A pure function from the stored request to its next state, or a refusal. */
export type ApprovalChange = (current: ApprovalRequest) => ApprovalRequest | Refusal;

export type UpdateResult =
  | { readonly ok: true; readonly request: ApprovalRequest }
  | { readonly ok: false; readonly refusal: Refusal };

export type ChangeListener = (request: ApprovalRequest) => void;

/**
 * Durable home of approval requests. `update` is atomic per request (read, change, write), so two
 * approvers — or two replicas — acting at once cannot both decide. Listeners hear every change,
 * including changes other replicas made, at least once; `version` orders them.
 */
export interface ApprovalStore {
  open(): Promise<void>;
  create(request: ApprovalRequest): Promise<void>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  list(query: ApprovalQuery): Promise<ApprovalRequest[]>;
  /** Resolves once the change is durable (file store: fsynced). */
  update(id: string, change: ApprovalChange): Promise<UpdateResult>;
  subscribe(listener: ChangeListener): () => void;
  /**
   * Asks the store to make sure changes to this request are heard (a replica polls the requests
   * its sessions wait on, in case a notification is lost). Returns the undo.
   */
  watch(id: string): () => void;
  /** Idempotent. */
  close(): Promise<void>;
}
