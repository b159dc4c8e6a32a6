import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The real binary (built by scripts/setup.sh), as an operator runs it.
const BIN = join(__dirname, '..', 'bin', 'querygate.js');

function querygate(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'qg-cli-'));
  const file = join(dir, 'querygate.yaml');
  writeFileSync(file, text);
  return file;
}

const GOOD = `
listeners:
  - name: pg
    protocol: postgres
    listen: 127.0.0.1:15432
    upstream: { host: 127.0.0.1, port: 5432, user: app, password: "\${env:PG_PASSWORD}" }
identities:
  users: [ { name: alice, password: "\${env:ALICE_PASSWORD}", groups: [dba] } ]
plugins:
  - use: guardrails
    options:
      rules:
        - { name: no-drop-database, match: { statement: drop_database }, action: block }
`;

describe('querygate CLI', () => {
  it('--version and --help', () => {
    expect(querygate(['--version'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^querygate \d+\.\d+\.\d+\n$/) });
    const help = querygate(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('querygate start --config FILE');
    expect(help.stdout).toContain('check-config');
  });

  it('check-config exits 0 on a good config', () => {
    const result = querygate(['check-config', '--config', configFile(GOOD)], { PG_PASSWORD: 'x', ALICE_PASSWORD: 'y' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ok \(1 listener, 1 plugin\)/);
  });

  it('check-config prints the key path and line of each error and exits 1', () => {
    const broken = GOOD
      .replace('protocol: postgres', 'protocol: postgress')
      .replace('"${env:PG_PASSWORD}"', 'literal-password')
      .replace('action: block', 'action: explode');
    const file = configFile(broken);
    const result = querygate(['check-config', '--config', file], { ALICE_PASSWORD: 'y' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:4: listeners[0].protocol:`);
    expect(result.stderr).toContain(`${file}:6: listeners[0].upstream.password: must be a secret reference`);
    expect(result.stderr).not.toContain('literal-password');
  });

  it('check-config reports plugin option errors with their line', () => {
    const file = configFile(GOOD.replace('action: block', 'action: explode'));
    const result = querygate(['check-config', '--config', file], { PG_PASSWORD: 'x', ALICE_PASSWORD: 'y' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:13: plugins[0].options.rules[0].action: must be one of: block, approve, allow`);
  });

  it('check-config reports an unknown plugin', () => {
    const file = configFile(GOOD.replace('use: guardrails', 'use: querygate-plugin-does-not-exist'));
    const result = querygate(['check-config', '--config', file], { PG_PASSWORD: 'x', ALICE_PASSWORD: 'y' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:10: plugins[0].use: plugin "querygate-plugin-does-not-exist" not found`);
  });

  it('start refuses a broken config without listening', () => {
    const result = querygate(['start', '--config', configFile('listeners: []\n')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('listeners: at least one listener is needed');
  });

  it('unknown commands exit 2 with help', () => {
    const result = querygate(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });
});
