import type { Statement } from '@querygate/core';

/**
 * MySQL statement analysis (node-sql-parser plus a lexer). PLACEHOLDER: the analysis
 * helper replaces this body; the interface (async load, sync analyze) is fixed.
 */
export class MysqlAnalyzer {
  static async load(): Promise<MysqlAnalyzer> {
    return new MysqlAnalyzer();
  }

  /** Splits `sql` the way the server does and analyses each statement. Never throws. */
  analyze(sql: string): readonly Statement[] {
    return [{
      text: sql, kind: 'unknown', command: 'unknown', fingerprint: sql, normalized: sql,
      reads: [], writes: [], functions: [], risks: new Set(['unparsed']), lineage: { outputs: [], complete: false },
    }];
  }
}
