import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfigFile } from '@querygate/core';
import { GatewayServer } from './GatewayServer';

const HELP = `querygate — a policy, approval, masking and audit gateway for PostgreSQL and MySQL

Usage:
  querygate start --config FILE        run the gateway in the foreground (JSON logs on stderr)
  querygate check-config --config FILE validate a config file; exit 1 listing each problem
  querygate demo                       start a local PostgreSQL with sample data and a gateway in front
  querygate approvals list|show ID|approve ID|deny ID --reason R [--admin URL --token JWT | --user U --password-env VAR]
  querygate sessions list (--dir DIR | --config FILE) [--json]
                                       list recorded sessions, newest first
  querygate sessions verify (SESSION... | --all) (--dir DIR | --config FILE)
                                       check recordings' hash chains; exit 1 if one was altered
  querygate replay SESSION [--speed N] (--dir DIR | --config FILE)
                                       print a recorded session as a transcript with its timing
                                       (--speed 2 twice as fast, 0 no waiting)
  querygate --version                  print the version
  querygate --help                     this text

Signals: SIGTERM / SIGINT stop accepting connections, let running statements finish
(gateway.shutdownTimeout), flush audit sinks, and exit 0.
`;

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  const out = (text: string): void => { process.stdout.write(text); };
  const err = (text: string): void => { process.stderr.write(text); };
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      out(HELP);
      return command === undefined ? 2 : 0;
    case '--version':
    case '-v':
    case 'version':
      out(`querygate ${version()}\n`);
      return 0;
    case 'check-config': {
      const file = flag(args, '--config');
      if (!file) { err('querygate check-config: --config FILE is required\n'); return 2; }
      try {
        const loaded = loadConfigFile(file);
        // Plugins are part of the config: load and register them too, without opening listeners.
        const server = await GatewayServer.create({ config: { ...loaded.config, logging: { level: 'error' } }, configFile: file, lineOf: loaded.lineOf });
        await server.gateway.shutdown();
        out(`${file}: ok (${loaded.config.listeners.length} listener${loaded.config.listeners.length === 1 ? '' : 's'}, ${loaded.config.plugins.length} plugin${loaded.config.plugins.length === 1 ? '' : 's'})\n`);
        return 0;
      } catch (e) {
        if (e instanceof ConfigError) { err(`${e.message}\n`); return 1; }
        throw e;
      }
    }
    case 'start': {
      const file = flag(args, '--config');
      if (!file) { err('querygate start: --config FILE is required\n'); return 2; }
      let loaded;
      try {
        loaded = loadConfigFile(file);
      } catch (e) {
        if (e instanceof ConfigError) { err(`${e.message}\n`); return 1; }
        throw e;
      }
      let server: GatewayServer;
      try {
        server = await GatewayServer.create({ config: loaded.config, configFile: file, lineOf: loaded.lineOf });
      } catch (e) {
        if (e instanceof ConfigError) { err(`${e.message}\n`); return 1; }
        throw e;
      }
      try {
        await server.start();
      } catch (e) {
        server.logger.error('failed to start', { error: (e as Error).message });
        return 1;
      }
      return waitForSignal(server);
    }
    case 'approvals': {
      const { runApprovalsCli } = await import('@querygate/plugin-approval');
      return runApprovalsCli(args, { stdout: process.stdout, stderr: process.stderr, env: process.env });
    }
    case 'sessions': {
      const { run } = await import('./commands/sessions');
      return run(args, { out, err });
    }
    case 'replay': {
      const { run } = await import('./commands/replay');
      return run(args, { out, err });
    }
    case 'demo': {
      const { runDemo } = await import('./demo');
      return runDemo(args);
    }
    default:
      err(`querygate: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

/** Resolves with the exit code once a signal has stopped the server. */
export function waitForSignal(server: GatewayServer): Promise<number> {
  return new Promise((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        server.logger.warn('second signal: exiting now', { signal });
        process.exit(1);
      }
      signalled = true;
      server.logger.info('shutting down', { signal });
      server.stop().then(() => resolve(0), (e: unknown) => {
        server.logger.error('shutdown failed', { error: String(e) });
        resolve(1);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
