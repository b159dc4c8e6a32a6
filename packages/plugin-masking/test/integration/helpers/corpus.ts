// The bypass corpus (test/corpus/*.json) and the search for clear values in outputs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearValues, leakForms } from './seed';

export type CorpusMode = 'simple' | 'extended' | 'prepared' | 'binary' | 'psql' | 'jdbc' | 'query' | 'execute' | 'cli';

export interface CorpusEntry {
  readonly index: number;
  readonly name: string;
  readonly statements: readonly string[];
  readonly straightforward: boolean;
  readonly modes?: readonly CorpusMode[];
  readonly knownIssue?: string;
}

interface RawEntry { name: string; sql: string | string[]; straightforward?: boolean; modes?: CorpusMode[]; knownIssue?: string }

export function loadCorpus(protocol: 'postgres' | 'mysql'): CorpusEntry[] {
  const raw = JSON.parse(readFileSync(join(__dirname, '..', '..', 'corpus', `${protocol}.json`), 'utf8')) as RawEntry[];
  return raw.map((e, index) => ({
    index,
    name: e.name,
    statements: Array.isArray(e.sql) ? e.sql : [e.sql],
    straightforward: e.straightforward === true,
    modes: e.modes,
    knownIssue: e.knownIssue,
  }));
}

export function runsIn(entry: CorpusEntry, mode: CorpusMode): boolean {
  return entry.modes === undefined || entry.modes.includes(mode);
}

export interface Leak {
  readonly value: string;
  readonly form: string;
  readonly where: string;
  readonly snippet: string;
}

const FORMS: readonly { value: string; forms: string[] }[] = clearValues().map((value) => ({ value, forms: leakForms(value) }));

/** Every seeded clear value (or a reversed / hex / base64 / digits form of it) found in `text`. */
export function findLeaks(text: string, where: string): Leak[] {
  const haystack = text.toLowerCase();
  const leaks: Leak[] = [];
  for (const { value, forms } of FORMS) {
    for (const form of forms) {
      const at = haystack.indexOf(form);
      if (at >= 0) {
        leaks.push({ value, form, where, snippet: text.slice(Math.max(0, at - 60), at + form.length + 60) });
        break;
      }
    }
  }
  return leaks;
}
