/**
 * A bounded LRU map. Analysis results are cached by a literal-normalised key so that each distinct
 * statement shape is parsed once; Map keeps insertion order, so re-inserting on hit makes it LRU.
 */
export class StatementCache<V> {
  private readonly entries = new Map<string, V>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity = 10_000) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) { this.misses++; return undefined; }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number { return this.entries.size; }
  clear(): void { this.entries.clear(); }
}
