import type { ObjectRef, RiskFlag } from '@querygate/core';
import { refKey } from './ast';

export type DmlKind = 'insert' | 'update' | 'delete' | 'merge';

/** Most dangerous last: the kind a statement takes when it carries several kinds of DML. */
export const DML_DANGER: readonly DmlKind[] = ['insert', 'update', 'merge', 'delete'];

export class Facts {
  readonly reads = new Map<string, ObjectRef>();
  readonly writes = new Map<string, ObjectRef>();
  readonly functions = new Set<string>();
  readonly risks = new Set<RiskFlag>();
  readonly dml = new Set<DmlKind>();
  /** SQL text found in literal arguments of functions that execute SQL text (dblink...). */
  readonly sqlTexts: string[] = [];
  /** True when a literal's value changed the analysis, so a literal-blind cache must not serve it. */
  literalSensitive = false;

  read(ref: ObjectRef): void { this.reads.set(refKey(ref), ref); }
  write(ref: ObjectRef): void { this.writes.set(refKey(ref), ref); }
}
