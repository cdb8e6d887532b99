// A bounded LRU map keyed by file identity: a file is hashed once until it changes.

export class IdentityCache<V> {
  readonly #map = new Map<string, V>();
  readonly capacity: number;

  constructor(capacity = 16384) {
    this.capacity = capacity;
  }

  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v === undefined) return undefined;
    // Re-insert: Map keeps insertion order, so the oldest entry is first.
    this.#map.delete(key);
    this.#map.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.capacity) this.#map.delete(this.#map.keys().next().value as string);
  }

  get size(): number {
    return this.#map.size;
  }

  clear(): void {
    this.#map.clear();
  }
}
