import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig, Secret } from '../src';

const GOOD = `
listeners:
  - name: pg
    protocol: postgres
    listen: 127.0.0.1:15432
    upstream: { host: 127.0.0.1, port: 5432, user: app, password: "\${env:PG_PASSWORD}" }
identities:
  users:
    - { name: alice, password: "\${env:ALICE_PASSWORD}", groups: [dba] }
plugins:
  - use: guardrails
    options: { rules: [] }
audit: { sinks: [ { type: file, path: ./data/audit.jsonl } ] }
`;

function problems(text: string, env: Record<string, string> = { PG_PASSWORD: 'x', ALICE_PASSWORD: 'y' }): { path: string; line?: number; message: string }[] {
  try {
    parseConfig(text, '/etc/querygate/gw.yaml', { env });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('config', () => {
  it('accepts the documented shape and applies defaults', () => {
    const { config } = parseConfig(GOOD, '/etc/querygate/gw.yaml', { env: { PG_PASSWORD: 'pw1', ALICE_PASSWORD: 'pw2' } });
    expect(config.listeners[0]!.upstream.password).toBeInstanceOf(Secret);
    expect(config.listeners[0]!.upstream.password!.reveal()).toBe('pw1');
    expect(config.listeners[0]!.upstream.tls.mode).toBe('prefer');
    expect(config.pipeline.hookTimeout).toBe(5000);
    expect(config.gateway.shutdownTimeout).toBe(30_000);
    // Relative paths are relative to the config file.
    expect(config.audit.sinks[0]).toEqual({ type: 'file', path: '/etc/querygate/data/audit.jsonl', fsync: false });
  });

  it('never prints a secret', () => {
    const { config } = parseConfig(GOOD, 'gw.yaml', { env: { PG_PASSWORD: 'hunter2-secret', ALICE_PASSWORD: 'pw2' } });
    expect(JSON.stringify(config)).not.toContain('hunter2-secret');
    expect(String(config.listeners[0]!.upstream.password)).toBe('[secret env:PG_PASSWORD]');
    expect(require('node:util').inspect(config, { depth: 10 })).not.toContain('hunter2-secret');
  });

  it('reads ${file:PATH} secrets relative to the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qg-config-'));
    writeFileSync(join(dir, 'pg.secret'), 's3cret\n');
    const text = GOOD.replace('${env:PG_PASSWORD}', '${file:pg.secret}');
    const { config } = parseConfig(text, join(dir, 'gw.yaml'), { env: { ALICE_PASSWORD: 'x' } });
    expect(config.listeners[0]!.upstream.password!.reveal()).toBe('s3cret');
  });

  it('refuses a literal password, naming the key path and line', () => {
    const found = problems(GOOD.replace('"${env:PG_PASSWORD}"', 'plaintext'));
    expect(found).toEqual([{ path: 'listeners[0].upstream.password', line: 6, message: expect.stringContaining('secret reference') }]);
  });

  it('reports a missing environment variable at its key', () => {
    const found = problems(GOOD, { ALICE_PASSWORD: 'y' });
    expect(found).toEqual([{ path: 'listeners[0].upstream.password', line: 6, message: 'environment variable PG_PASSWORD is not set' }]);
  });

  it('reports every problem with its path and line', () => {
    const broken = `
listeners:
  - name: pg
    protocol: postgress
    listen: nowhere
    upstream: { host: 127.0.0.1, port: "5432", user: app }
    colour: blue
pipeline: { hookTimeout: soon }
`;
    const found = problems(broken);
    expect(found).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'listeners[0].protocol', line: 4 }),
      expect.objectContaining({ path: 'listeners[0].listen', line: 5 }),
      expect.objectContaining({ path: 'listeners[0].upstream.port', line: 6, message: 'expected number, got string' }),
      expect.objectContaining({ path: 'listeners[0].colour', line: 7, message: 'unknown key' }),
      expect.objectContaining({ path: 'pipeline.hookTimeout', line: 8 }),
    ]));
    expect(found).toHaveLength(5);
  });

  it('reports a missing required key at its parent', () => {
    const found = problems(`
listeners:
  - name: pg
    protocol: postgres
    listen: 127.0.0.1:1
`);
    expect(found).toEqual([{ path: 'listeners[0].upstream', line: 3, message: 'required key is missing' }]);
  });

  it('reports YAML syntax errors with a line', () => {
    const found = problems('listeners:\n  - name: [unclosed\n');
    expect(found[0]!.line).toBeGreaterThanOrEqual(2);
    expect(found[0]!.message).toMatch(/^YAML/);
  });

  it('catches duplicate listener names and unknown listeners in access rules', () => {
    const text = GOOD.replace('identities:', `  - name: pg
    protocol: mysql
    listen: 127.0.0.1:13306
    upstream: { host: 127.0.0.1, port: 3306, user: app }
access:
  - { groups: [dba], listeners: [mysql] }
identities:`);
    const found = problems(text);
    expect(found).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'listeners[1].name', message: 'duplicate listener name "pg"' }),
      expect.objectContaining({ path: 'access[0].listeners[0]', message: 'no listener is named "mysql"' }),
    ]));
  });
});
