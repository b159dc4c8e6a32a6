import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The JSON Schema keywords docs/audit-event.schema.json uses; enough to check it without a library. */
export interface SchemaNode {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: boolean;
  readonly items?: SchemaNode;
  readonly minimum?: number;
  readonly minLength?: number;
  readonly pattern?: string;
}

/** Where the schema lives in the querygate repository, seen from src/ or dist/. */
export const DEFAULT_SCHEMA_PATH = join(__dirname, '..', '..', '..', 'docs', 'audit-event.schema.json');

const SUPPORTED = new Set([
  '$schema', '$id', 'title', 'description', 'format',
  'type', 'const', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'minimum', 'minLength', 'pattern',
]);

/**
 * Checks values against the audit event schema. A deliberately small interpreter: it refuses a schema
 * that uses a keyword it does not know, so a future schema change cannot be silently half-checked.
 */
export class SchemaValidator {
  private readonly patterns = new Map<string, RegExp>();

  constructor(readonly schema: SchemaNode) {
    this.checkKeywords(schema, '#');
  }

  static fromFile(path = DEFAULT_SCHEMA_PATH): SchemaValidator {
    return new SchemaValidator(JSON.parse(readFileSync(path, 'utf8')) as SchemaNode);
  }

  /** Every violation as `path: problem`; empty when the value is valid. */
  validate(value: unknown): string[] {
    const problems: string[] = [];
    this.check(this.schema, value, '$', problems);
    return problems;
  }

  private checkKeywords(node: SchemaNode, at: string): void {
    for (const key of Object.keys(node)) {
      if (!SUPPORTED.has(key)) throw new Error(`schema keyword "${key}" at ${at} is not supported by this validator`);
    }
    for (const [name, child] of Object.entries(node.properties ?? {})) this.checkKeywords(child, `${at}/properties/${name}`);
    if (node.items !== undefined) this.checkKeywords(node.items, `${at}/items`);
  }

  private check(node: SchemaNode, value: unknown, path: string, problems: string[]): void {
    if (node.type !== undefined && !hasType(value, node.type)) {
      problems.push(`${path}: expected ${node.type}, got ${describe(value)}`);
      return;
    }
    if ('const' in node && value !== node.const) problems.push(`${path}: must be ${JSON.stringify(node.const)}`);
    if (node.enum !== undefined && !node.enum.includes(value)) {
      problems.push(`${path}: ${JSON.stringify(value)} is not one of ${node.enum.map((v) => JSON.stringify(v)).join(', ')}`);
    }
    if (typeof value === 'string') {
      if (node.minLength !== undefined && value.length < node.minLength) problems.push(`${path}: shorter than ${node.minLength}`);
      if (node.pattern !== undefined && !this.regex(node.pattern).test(value)) problems.push(`${path}: does not match ${node.pattern}`);
    }
    if (typeof value === 'number' && node.minimum !== undefined && value < node.minimum) {
      problems.push(`${path}: less than ${node.minimum}`);
    }
    if (Array.isArray(value) && node.items !== undefined) {
      value.forEach((item, i) => this.check(node.items!, item, `${path}[${i}]`, problems));
    }
    if (isObject(value)) {
      for (const key of node.required ?? []) {
        if (!(key in value)) problems.push(`${path}: missing required "${key}"`);
      }
      for (const [key, child] of Object.entries(value)) {
        const schema = node.properties?.[key];
        if (schema !== undefined) this.check(schema, child, `${path}.${key}`, problems);
        else if (node.additionalProperties === false) problems.push(`${path}: unexpected property "${key}"`);
      }
    }
  }

  private regex(source: string): RegExp {
    let re = this.patterns.get(source);
    if (re === undefined) {
      re = new RegExp(source, 'u');
      this.patterns.set(source, re);
    }
    return re;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasType(value: unknown, type: NonNullable<SchemaNode['type']>): boolean {
  switch (type) {
    case 'object': return isObject(value);
    case 'array': return Array.isArray(value);
    case 'string': return typeof value === 'string';
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'boolean': return typeof value === 'boolean';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
