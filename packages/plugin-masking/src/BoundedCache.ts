/**
 * A map that forgets its oldest entries past `capacity`. Plans are keyed by statement shape, so a
 * client that generates endless distinct statements cannot grow the gateway's memory.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  get size(): number { return this.entries.size; }

  clear(): void { this.entries.clear(); }
}
