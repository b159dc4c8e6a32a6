import { inspect } from 'node:util';

/**
 * A resolved secret (password, key). Prints as `[secret NAME]` everywhere (logs, JSON, inspect),
 * so handing a config object to a logger cannot leak it; `reveal()` is the one way to the value.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string, readonly source: string) {
    this.#value = value;
  }
  reveal(): string { return this.#value; }
  toString(): string { return `[secret ${this.source}]`; }
  toJSON(): string { return this.toString(); }
  [inspect.custom](): string { return this.toString(); }
}
