import type { QuerygatePlugin } from '@querygate/core';

/** Built-in plugins, by short name. Package names of built-ins resolve to the same modules. */
const BUILT_INS: Readonly<Record<string, () => unknown>> = {
  guardrails: () => require('./guardrails'),
  masking: () => require('@querygate/plugin-masking'),
  approval: () => require('@querygate/plugin-approval'),
  'audit-kafka': () => require('@querygate/plugin-audit-kafka'),
};
const PACKAGE_ALIASES: Readonly<Record<string, string>> = {
  '@querygate/plugin-masking': 'masking',
  '@querygate/plugin-approval': 'approval',
  '@querygate/plugin-audit-kafka': 'audit-kafka',
};

export const BUILT_IN_PLUGINS: readonly string[] = Object.keys(BUILT_INS);

/**
 * Turns `plugins[].use` into a plugin: a built-in name, or a package (or path) resolvable from the
 * config file's directory, then from the working directory, then from the gateway itself.
 */
export function pluginLoader(searchDirs: readonly string[]): (use: string) => Promise<QuerygatePlugin> {
  return async (use) => {
    const builtIn = BUILT_INS[use] ?? BUILT_INS[PACKAGE_ALIASES[use] ?? ''];
    let loaded: unknown;
    if (builtIn) {
      loaded = builtIn();
    } else {
      let resolved: string;
      try {
        resolved = require.resolve(use, { paths: [...searchDirs, __dirname] });
      } catch {
        throw new Error(`plugin "${use}" not found: it is not a built-in (${BUILT_IN_PLUGINS.join(', ')}) and no package or file of that name can be loaded from ${searchDirs.join(', ')}`);
      }
      try {
        loaded = require(resolved);
      } catch (err) {
        throw new Error(`plugin "${use}" (${resolved}) failed to load: ${(err as Error).message}`);
      }
    }
    const plugin = (loaded as { default?: unknown }).default ?? loaded;
    if (!isPlugin(plugin)) {
      throw new Error(`module "${use}" does not export a querygate plugin (a default export with \`name\` and \`register(context)\`; see definePlugin in @querygate/core)`);
    }
    return plugin;
  };
}

function isPlugin(value: unknown): value is QuerygatePlugin {
  return typeof value === 'object' && value !== null &&
    typeof (value as QuerygatePlugin).name === 'string' &&
    typeof (value as QuerygatePlugin).register === 'function';
}
