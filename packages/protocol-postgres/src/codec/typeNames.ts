/** Built-in type OIDs (stable across PostgreSQL versions: they come from pg_type.dat). */
export const TypeOid = {
  bool: 16, bytea: 17, char: 18, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26,
  json: 114, xml: 142, float4: 700, float8: 701, unknown: 705, money: 790, inet: 869, cidr: 650, macaddr: 829,
  bpchar: 1042, varchar: 1043, date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184, interval: 1186,
  timetz: 1266, bit: 1560, varbit: 1562, numeric: 1700, uuid: 2950, jsonb: 3802, jsonpath: 4072, regclass: 2205,
  record: 2249, void: 2278, tsvector: 3614,
  _bool: 1000, _int2: 1005, _int4: 1007, _text: 1009, _varchar: 1015, _int8: 1016, _float4: 1021, _float8: 1022,
  _numeric: 1231, _uuid: 2951, _jsonb: 3807, _json: 199, _date: 1182, _timestamp: 1115, _timestamptz: 1185,
} as const;

const NAMES = new Map<number, string>(Object.entries(TypeOid).map(([name, oid]) => [oid, name]));

/** Name of a built-in type, or undefined for a type the catalog must name (user types, extensions). */
export function builtinTypeName(oid: number): string | undefined {
  return NAMES.get(oid);
}
