export interface ConfigProblem {
  /** Key path, e.g. `listeners[0].upstream.port`. */
  readonly path: string;
  /** 1-based line in the config file, when known. */
  readonly line?: number;
  readonly message: string;
}

/** A config that cannot be used. Lists every problem found, each with its key path and line. */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly problems: readonly ConfigProblem[]) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` +
      problems.map((p) => `  ${file}:${p.line ?? '?'}: ${p.path || '(root)'}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}
