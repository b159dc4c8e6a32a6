/**
 * What a database type name means for masking: which replacement text the client's driver will
 * still parse as that type. Covers PostgreSQL type names (as RowDescription resolves them) and
 * MySQL column type names; anything not listed is `other`.
 */
export type TypeFamily =
  | 'text' | 'integer' | 'decimal' | 'float' | 'money' | 'boolean'
  | 'date' | 'time' | 'timetz' | 'timestamp' | 'timestamptz' | 'interval' | 'year'
  | 'uuid' | 'json' | 'inet' | 'cidr' | 'macaddr' | 'macaddr8' | 'bytes' | 'bit' | 'array' | 'other';

const FAMILIES: Readonly<Record<string, TypeFamily>> = {
  // text
  text: 'text', varchar: 'text', 'character varying': 'text', char: 'text', character: 'text', bpchar: 'text',
  name: 'text', citext: 'text', tinytext: 'text', mediumtext: 'text', longtext: 'text', string: 'text',
  var_string: 'text', enum: 'text', set: 'text', xml: 'text', tsvector: 'text', unknown: 'text',
  // integers
  int2: 'integer', int4: 'integer', int8: 'integer', smallint: 'integer', integer: 'integer', int: 'integer',
  bigint: 'integer', tinyint: 'integer', mediumint: 'integer', int24: 'integer', long: 'integer',
  longlong: 'integer', short: 'integer', tiny: 'integer', serial: 'integer', bigserial: 'integer', oid: 'integer',
  // other numbers
  numeric: 'decimal', decimal: 'decimal', newdecimal: 'decimal',
  float4: 'float', float8: 'float', real: 'float', float: 'float', double: 'float', 'double precision': 'float',
  money: 'money',
  bool: 'boolean', boolean: 'boolean',
  // time
  date: 'date', newdate: 'date',
  time: 'time', timetz: 'timetz', 'time with time zone': 'timetz',
  timestamp: 'timestamp', datetime: 'timestamp', datetime2: 'timestamp', 'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamptz', 'timestamp with time zone': 'timestamptz',
  interval: 'interval', year: 'year',
  // structured
  uuid: 'uuid', json: 'json', jsonb: 'json',
  inet: 'inet', cidr: 'cidr', macaddr: 'macaddr', macaddr8: 'macaddr8',
  bytea: 'bytes', blob: 'bytes', tinyblob: 'bytes', mediumblob: 'bytes', longblob: 'bytes',
  binary: 'bytes', varbinary: 'bytes',
  bit: 'bit', varbit: 'bit', 'bit varying': 'bit',
};

export function typeFamily(type: string): TypeFamily {
  const t = type.toLowerCase();
  const known = FAMILIES[t];
  if (known) return known;
  // PostgreSQL array types are `_elem` in pg_type and `elem[]` when written out.
  if (t.startsWith('_') || t.endsWith('[]')) return 'array';
  // `varchar(255)`, `decimal(10,2)`, `int unsigned`: the base name decides.
  const base = /^[a-z_ ]+?(?=\s*\(|\s+unsigned|\s+signed|\s+zerofill|$)/.exec(t)?.[0]?.trim();
  if (base && base !== t) return FAMILIES[base] ?? 'other';
  return 'other';
}

/** Families whose values are free text: where value detectors look. */
export function isTextFamily(family: TypeFamily): boolean {
  return family === 'text' || family === 'json';
}
