import type { ColumnRef, ObjectRef } from '@querygate/core';
import { relationKey } from './patterns';
import type { RelationInfo, ViewResolver } from './ViewResolver';

/**
 * Views declared in the masking options (`views:`), for deployments whose adapter provides no
 * catalog resolver. Every relation not declared here is a table.
 */
export class StaticViewResolver implements ViewResolver {
  private readonly views = new Map<string, RelationInfo>();
  readonly version = 'static';

  /** `definitions`: view name (`schema.view` or `view`) -> view column -> source columns. */
  constructor(definitions: ReadonlyMap<string, ReadonlyMap<string, readonly ColumnRef[]>>) {
    for (const [name, columns] of definitions) {
      const dot = name.lastIndexOf('.');
      const ref: ObjectRef = dot < 0 ? { name } : { schema: name.slice(0, dot), name: name.slice(dot + 1) };
      const reads = new Map<string, ObjectRef>();
      const viewColumns = [...columns].map(([column, sources]) => {
        for (const s of sources) reads.set(relationKey({ schema: s.schema, name: s.table }), { schema: s.schema, name: s.table });
        return { name: column, sources };
      });
      this.views.set(relationKey(ref), { kind: 'view', columns: viewColumns, reads: [...reads.values()], complete: true });
    }
  }

  describe(relation: ObjectRef): RelationInfo {
    return this.declared(relation) ?? { kind: 'table' };
  }

  /** The declared view, or undefined when the options do not declare it. */
  declared(relation: ObjectRef): RelationInfo | undefined {
    return this.views.get(relationKey(relation))
      // Schemas are optional on either side: a declared `public.v` is found for a read of `v`
      // (search_path decides at run time; masking more is the safe side), a declared `v` for `public.v`.
      ?? (relation.schema === undefined ? this.findByName(relation.name) : this.views.get(relation.name.toLowerCase()));
  }

  private findByName(name: string): RelationInfo | undefined {
    const suffix = `.${name.toLowerCase()}`;
    for (const [key, info] of this.views) if (key.endsWith(suffix)) return info;
    return undefined;
  }
}
