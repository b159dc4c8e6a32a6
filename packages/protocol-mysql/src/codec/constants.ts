// Wire constants of the MySQL client/server protocol (MariaDB uses the same values).

/** Capability flags (the low 32 bits; MariaDB's extended capabilities are never offered). */
export const Capability = {
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  NO_SCHEMA: 0x10,
  COMPRESS: 0x20,
  ODBC: 0x40,
  LOCAL_FILES: 0x80,
  IGNORE_SPACE: 0x100,
  PROTOCOL_41: 0x200,
  INTERACTIVE: 0x400,
  SSL: 0x800,
  IGNORE_SIGPIPE: 0x1000,
  TRANSACTIONS: 0x2000,
  RESERVED: 0x4000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 0x10000,
  MULTI_RESULTS: 0x20000,
  PS_MULTI_RESULTS: 0x40000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
  CAN_HANDLE_EXPIRED_PASSWORDS: 0x400000,
  SESSION_TRACK: 0x800000,
  DEPRECATE_EOF: 0x1000000,
} as const;

/** Commands (first payload byte of a client packet in the command phase). */
export const Command = {
  SLEEP: 0x00,
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  CREATE_DB: 0x05,
  DROP_DB: 0x06,
  REFRESH: 0x07,
  SHUTDOWN: 0x08,
  STATISTICS: 0x09,
  PROCESS_INFO: 0x0a,
  CONNECT: 0x0b,
  PROCESS_KILL: 0x0c,
  DEBUG: 0x0d,
  PING: 0x0e,
  TIME: 0x0f,
  DELAYED_INSERT: 0x10,
  CHANGE_USER: 0x11,
  BINLOG_DUMP: 0x12,
  TABLE_DUMP: 0x13,
  CONNECT_OUT: 0x14,
  REGISTER_SLAVE: 0x15,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_SEND_LONG_DATA: 0x18,
  STMT_CLOSE: 0x19,
  STMT_RESET: 0x1a,
  SET_OPTION: 0x1b,
  STMT_FETCH: 0x1c,
  DAEMON: 0x1d,
  BINLOG_DUMP_GTID: 0x1e,
  RESET_CONNECTION: 0x1f,
  /** MariaDB: COM_STMT_BULK_EXECUTE (only with an extended capability querygate never offers). */
  STMT_BULK_EXECUTE: 0xfa,
} as const;

/** Server status flags (OK / EOF packets). */
export const ServerStatus = {
  IN_TRANS: 0x1,
  AUTOCOMMIT: 0x2,
  MORE_RESULTS_EXISTS: 0x8,
  CURSOR_EXISTS: 0x40,
  LAST_ROW_SENT: 0x80,
  /** sql_mode has NO_BACKSLASH_ESCAPES: a backslash inside a string is an ordinary character. */
  NO_BACKSLASH_ESCAPES: 0x200,
  PS_OUT_PARAMS: 0x1000,
} as const;

/** First payload byte of response packets. */
export const Header = {
  OK: 0x00,
  AUTH_MORE_DATA: 0x01,
  LOCAL_INFILE: 0xfb,
  AUTH_SWITCH: 0xfe,
  EOF: 0xfe,
  ERR: 0xff,
} as const;

/** Column types (MYSQL_TYPE_*). */
export const ColumnType = {
  DECIMAL: 0x00,
  TINY: 0x01,
  SHORT: 0x02,
  LONG: 0x03,
  FLOAT: 0x04,
  DOUBLE: 0x05,
  NULL: 0x06,
  TIMESTAMP: 0x07,
  LONGLONG: 0x08,
  INT24: 0x09,
  DATE: 0x0a,
  TIME: 0x0b,
  DATETIME: 0x0c,
  YEAR: 0x0d,
  NEWDATE: 0x0e,
  VARCHAR: 0x0f,
  BIT: 0x10,
  TIMESTAMP2: 0x11,
  DATETIME2: 0x12,
  TIME2: 0x13,
  JSON: 0xf5,
  NEWDECIMAL: 0xf6,
  ENUM: 0xf7,
  SET: 0xf8,
  TINY_BLOB: 0xf9,
  MEDIUM_BLOB: 0xfa,
  LONG_BLOB: 0xfb,
  BLOB: 0xfc,
  VAR_STRING: 0xfd,
  STRING: 0xfe,
  GEOMETRY: 0xff,
} as const;

const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x00: 'decimal', 0x01: 'tinyint', 0x02: 'smallint', 0x03: 'int', 0x04: 'float', 0x05: 'double',
  0x06: 'null', 0x07: 'timestamp', 0x08: 'bigint', 0x09: 'mediumint', 0x0a: 'date', 0x0b: 'time',
  0x0c: 'datetime', 0x0d: 'year', 0x0e: 'date', 0x0f: 'varchar', 0x10: 'bit', 0x11: 'timestamp',
  0x12: 'datetime', 0x13: 'time', 0xf5: 'json', 0xf6: 'decimal', 0xf7: 'enum', 0xf8: 'set',
  0xf9: 'tinyblob', 0xfa: 'mediumblob', 0xfb: 'longblob', 0xfc: 'blob', 0xfd: 'varchar', 0xfe: 'char',
  0xff: 'geometry',
};

/** Lower-case type name for a column type code (what core's ResultColumn.type carries). */
export function columnTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type_${type}`;
}

/**
 * Type name of a column as its definition describes it. The blob family (the server sends 0xfc
 * for every TEXT and BLOB column) is text unless the column has the binary character set: a TEXT
 * column named `blob` would look like bytes to the result hooks, and masking's detectors skip bytes.
 * Its size follows the length the server reports. MySQL's JSON
 * type has its own code; MariaDB's JSON is a LONGTEXT, told apart only by extended type metadata,
 * which querygate does not negotiate.
 */
export function columnTypeNameOf(column: { readonly type: number; readonly charset: number; readonly length: number }): string {
  const { type } = column;
  if (type < ColumnType.TINY_BLOB || type > ColumnType.BLOB || column.charset === BINARY_CHARSET) return columnTypeName(type);
  const size = type === ColumnType.BLOB ? column.length : type === ColumnType.TINY_BLOB ? 0xff : type === ColumnType.MEDIUM_BLOB ? 0xffffff : 0xffffffff;
  // The length is in bytes: the type's maximum in characters times the character set's widest
  // character (up to 4), so each type's range is [max, 4 * max] and the ranges do not overlap.
  if (size <= 4 * 0xff) return 'tinytext';
  if (size <= 4 * 0xffff) return 'text';
  if (size <= 4 * 0xffffff) return 'mediumtext';
  return 'longtext';
}

/** Column definition flags that matter for value conversion. */
export const ColumnFlag = {
  NOT_NULL: 0x1,
  UNSIGNED: 0x20,
  BINARY: 0x80,
} as const;

/** Longest payload of one physical packet; a payload this long continues in the next packet. */
export const MAX_PACKET_PAYLOAD = 0xffffff;

/** The binary collation: string columns with it carry bytes, not text. */
export const BINARY_CHARSET = 63;
