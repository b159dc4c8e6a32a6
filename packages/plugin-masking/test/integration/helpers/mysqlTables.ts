// Results of the MySQL clients as text tables, for comparing a gateway's answer with a direct one.
import { createConnection, type FieldPacket } from 'mysql2/promise';
import type { Table } from './expectations';

export function mysqlCell(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'object') return JSON.stringify(v);
  const s = String(v);
  if (/^[{[]/.test(s)) {
    try { return JSON.stringify(JSON.parse(s)); } catch { return s; }
  }
  return s;
}

export async function mysqlTable(config: { host: string; port: number; user: string; password: string; database: string }, sql: string, mode: 'query' | 'execute'): Promise<Table> {
  const connection = await createConnection(config);
  try {
    const [rows, fields] = mode === 'query'
      ? await connection.query({ sql, rowsAsArray: true })
      : await connection.execute({ sql, rowsAsArray: true });
    const f = fields as FieldPacket[];
    return { columns: f.map((x) => x.name), types: f.map((x) => String(x.columnType)), rows: (rows as unknown[][]).map((r) => r.map(mysqlCell)) };
  } finally {
    await connection.end();
  }
}

export function cliTable(stdout: string): Table {
  const lines = stdout.split('\n').filter((l) => l !== '');
  const [header = '', ...rows] = lines;
  return { columns: header.split('\t'), types: [], rows: rows.map((l) => l.split('\t').map((v) => (v === 'NULL' ? null : v))) };
}
