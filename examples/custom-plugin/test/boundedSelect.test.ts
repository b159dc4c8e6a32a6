import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, Gateway, parseConfig, silentLogger, type Statement } from '@querygate/core';
import { pluginLoader } from '@querygate/gateway';
import { isUnboundedSelectStar } from '../src';

function stmt(text: string, expands: boolean, kind: Statement['kind'] = 'select'): Statement {
  return {
    text, kind, command: kind, fingerprint: text, normalized: text, reads: [], writes: [], functions: [],
    risks: new Set(), lineage: { outputs: expands ? [{ sources: [{ table: 't', column: '*' }], direct: true, expands: true }] : [], complete: true },
  };
}

function gatewayConfig(options: string) {
  const dir = mkdtempSync(join(tmpdir(), 'qg-example-'));
  return parseConfig(`
gateway: { dataDir: ${dir} }
listeners:
  - { name: pg, protocol: postgres, listen: 127.0.0.1:1, upstream: { host: 127.0.0.1, port: 5432, user: app } }
identities:
  users:
    - { name: alice, password: "\${env:PW}", groups: [dev] }
    - { name: root, password: "\${env:PW}", groups: [dba] }
audit: { sinks: [] }
plugins:
  - use: querygate-plugin-bounded-select
${options}
`, join(dir, 'gw.yaml'), { env: { PW: 'pw' } });
}

describe('bounded-select example plugin', () => {
  it('classifies statements', () => {
    expect(isUnboundedSelectStar(stmt('SELECT * FROM t', true))).toBe(true);
    expect(isUnboundedSelectStar(stmt('SELECT * FROM t LIMIT $1', true))).toBe(false);
    expect(isUnboundedSelectStar(stmt('select t.* from t fetch first 5 rows only', true))).toBe(false);
    expect(isUnboundedSelectStar(stmt('SELECT a FROM t', false))).toBe(false);
    expect(isUnboundedSelectStar(stmt('DELETE FROM t', false, 'delete'))).toBe(false);
  });

  it('loads by package name from a config and refuses SELECT * without LIMIT, except for exempt groups', async () => {
    const loaded = gatewayConfig('    options: { exemptGroups: [dba] }');
    const gateway = await Gateway.create({ config: loaded.config, loadPlugin: pluginLoader([process.cwd()]), logger: silentLogger });
    expect(gateway.interceptors.map((i) => i.name)).toEqual(['bounded-select']);
    const runtime = gateway.listenerRuntime(loaded.config.listeners[0]!);
    const open = (user: string) => runtime.openSession({ id: `s-${user}`, identity: gateway.identities.localUser(user)!.identity, database: 'app', clientAddress: 'x', clientParameters: {}, tls: false });
    const alice = await open('alice');
    expect(alice.judge([stmt('SELECT * FROM users', true)], { via: 'simple' })).toMatchObject({ action: 'deny', error: { code: 'QG_STATEMENT_DENIED', rule: 'bounded-select', sqlstate: '42501' } });
    expect(alice.judge([stmt('SELECT * FROM users LIMIT 10', true)], { via: 'simple' })).toEqual({ action: 'allow' });
    const root = await open('root');
    expect(root.judge([stmt('SELECT * FROM users', true)], { via: 'simple' })).toEqual({ action: 'allow' });
    await gateway.shutdown();
  });

  it('reports bad options at their key path and line', async () => {
    const loaded = gatewayConfig('    options: { exemptGroup: [dba] }');
    const error = await Gateway.create({ config: loaded.config, lineOf: loaded.lineOf, loadPlugin: pluginLoader([process.cwd()]), logger: silentLogger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([{ path: 'plugins[0].options.exemptGroup', line: 12, message: 'unknown key (expected: exemptGroups)' }]);
  });
});
