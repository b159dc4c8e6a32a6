import type { ColumnRef, OutputColumnLineage, ResultColumn } from '@querygate/core';
import { sameColumn, sameTable } from './patterns';

/** The lineage one result column gets after alignment. */
export interface AlignedColumn {
  /** Source columns that may feed this result column (a union when alignment was ambiguous). */
  readonly sources: readonly ColumnRef[];
  /** True when every entry that may cover the column passes a source column's value unchanged. */
  readonly direct: boolean;
}

/**
 * Maps the analyser's lineage entries onto the result columns the database described.
 *
 * An entry without `expands` covers exactly one result column; an `expands` entry (`*`, `t.*`)
 * covers one or more consecutive columns. Every way of cutting the result columns into such runs
 * is considered, keeping only those consistent with the database's column origins:
 * - a `direct` entry with one source must not be placed on a column whose origin is another column;
 * - an `expands` entry must not cover a column whose origin is a table it does not expand.
 * Columns without an origin (expressions, or a driver that does not say) fit any entry.
 * When the database reports origins at all, a first pass also assumes its habits: an expression
 * (non-direct entry) has no origin, and a `*` column has one. That pass usually leaves one cut;
 * only if it leaves none does a second pass drop these two assumptions.
 *
 * When exactly one cut is consistent, each column gets its entry. When several are (two adjacent
 * `*` over tables whose columns carry no origin), each column gets the union of the sources of every
 * entry that may cover it, and counts as direct only if all of them are direct: ambiguity masks
 * more, never less. When none is consistent, alignment fails (undefined) and the caller applies the
 * fallback. Runs in O(entries x columns^2) at worst, once per cached plan.
 */
export function alignLineage(columns: readonly ResultColumn[], outputs: readonly OutputColumnLineage[]): AlignedColumn[] | undefined {
  // First with the database's habits as constraints: an expression has no origin, and when the
  // database reports origins, a `*` column carries one. Without a cut that way, without them.
  const withOrigins = columns.some((c) => c.origin !== undefined);
  return align(columns, outputs, withOrigins) ?? (withOrigins ? align(columns, outputs, false) : undefined);
}

function align(columns: readonly ResultColumn[], outputs: readonly OutputColumnLineage[], strict: boolean): AlignedColumn[] | undefined {
  const E = outputs.length;
  const C = columns.length;
  if (!outputs.some((o) => o.expands)) {
    if (E !== C) return undefined;
    for (let i = 0; i < C; i++) if (!fitsSingle(outputs[i]!, columns[i]!, strict)) return undefined;
    return columns.map((_, i) => ({ sources: outputs[i]!.sources, direct: outputs[i]!.direct }));
  }

  // reach[j]: a column run end `p` that entries 0..j-1 can cover exactly. back[j]: a start `p` from
  // which entries j..E-1 can cover the rest exactly.
  const limit: number[][] = outputs.map((entry) => {
    // limit[j][p]: the furthest end (exclusive) a run of entry j starting at p can reach.
    const ends = new Array<number>(C + 1).fill(0);
    if (entry.expands) {
      let end = C;
      for (let p = C - 1; p >= 0; p--) {
        if (!fitsStar(entry, columns[p]!, strict)) end = p;
        ends[p] = end;
      }
    } else {
      for (let p = 0; p < C; p++) ends[p] = fitsSingle(entry, columns[p]!, strict) ? p + 1 : p;
    }
    return ends;
  });
  const fits = (j: number, p: number, q: number): boolean => q > p && q <= limit[j]![p]! && (outputs[j]!.expands === true || q === p + 1);

  const forward: boolean[][] = Array.from({ length: E + 1 }, () => new Array<boolean>(C + 1).fill(false));
  forward[0]![0] = true;
  for (let j = 0; j < E; j++) {
    for (let p = 0; p < C; p++) {
      if (!forward[j]![p]) continue;
      for (let q = p + 1; q <= limit[j]![p]!; q++) if (fits(j, p, q)) forward[j + 1]![q] = true;
    }
  }
  if (!forward[E]![C]) return undefined;
  const backward: boolean[][] = Array.from({ length: E + 1 }, () => new Array<boolean>(C + 1).fill(false));
  backward[E]![C] = true;
  for (let j = E - 1; j >= 0; j--) {
    for (let p = 0; p < C; p++) {
      for (let q = p + 1; q <= limit[j]![p]!; q++) {
        if (backward[j + 1]![q] && fits(j, p, q)) { backward[j]![p] = true; break; }
      }
    }
  }

  const sources: ColumnRef[][] = columns.map(() => []);
  const direct: boolean[] = columns.map(() => true);
  const covered: boolean[] = columns.map(() => false);
  for (let j = 0; j < E; j++) {
    const entry = outputs[j]!;
    for (let p = 0; p < C; p++) {
      if (!forward[j]![p]) continue;
      for (let q = p + 1; q <= limit[j]![p]!; q++) {
        if (!backward[j + 1]![q] || !fits(j, p, q)) continue;
        for (let c = p; c < q; c++) {
          covered[c] = true;
          if (!entry.direct) direct[c] = false;
          for (const s of entry.expands ? starSources(entry, columns[c]!) : entry.sources) {
            if (!sources[c]!.some((known) => sameColumn(known, s) && known.schema === s.schema)) sources[c]!.push(s);
          }
        }
      }
    }
  }
  if (covered.some((c) => !c)) return undefined;
  return columns.map((_, c) => ({ sources: sources[c]!, direct: direct[c]! }));
}

// Origins are compared with sources by table and column only: MariaDB names a view column's origin
// with the view's name but the schema of the base table behind it (`hr.staff` over `app.users`
// reports `app.staff`). Looser here only admits more cuts, whose sources are then merged.
function fitsSingle(entry: OutputColumnLineage, column: ResultColumn, strict: boolean): boolean {
  if (!column.origin) return true;
  if (!entry.direct) return !strict;
  if (entry.sources.length !== 1) return true;
  const source = entry.sources[0]!;
  return source.column === '*' || sameColumn(unqualified(column.origin), source);
}

function fitsStar(entry: OutputColumnLineage, column: ResultColumn, strict: boolean): boolean {
  if (!column.origin) return !strict;
  const origin = unqualified(column.origin);
  return entry.sources.some((s) => sameTable(s, origin));
}

function unqualified(ref: ColumnRef): ColumnRef {
  return { table: ref.table, column: ref.column };
}

/**
 * Which of a `*` entry's sources one of its columns carries. A `t.*` source stands for the column
 * of `t` with the result column's name (or its origin's column); a specific source counts when its
 * name matches. When no specific source matches by name (an expression aliased inside a derived
 * table), every source of the entry counts. A column without a name keeps `t.*`: a whole row.
 */
function starSources(entry: OutputColumnLineage, column: ResultColumn): ColumnRef[] {
  const name = column.name.toLowerCase();
  const out: ColumnRef[] = [];
  let specificNamed = false;
  let specific = false;
  for (const s of entry.sources) {
    if (s.column === '*') {
      const own = column.origin && sameTable(column.origin, s) ? column.origin.column : column.name;
      out.push(own.length > 0 ? { ...s, column: own } : s);
    } else {
      specific = true;
      if (s.column.toLowerCase() === name || (column.origin && sameColumn(column.origin, s))) {
        specificNamed = true;
        out.push(s);
      }
    }
  }
  if (specific && !specificNamed) for (const s of entry.sources) if (s.column !== '*') out.push(s);
  return out;
}
