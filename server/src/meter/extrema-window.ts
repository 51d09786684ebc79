interface Reading {
  at: number;
  value: number;
}

/**
 * Maximum and minimum of the readings taken within a sliding time window.
 *
 * Two monotonic deques keep only the readings that can still become the
 * maximum (or minimum) before they expire, so `push`, `evictUpTo`, `max`
 * and `min` cost O(1) amortized, and memory never exceeds the readings that
 * fall inside the window.
 */
export class ExtremaWindow {
  // Values fall from head to tail in `maxima` and rise in `minima`.
  private readonly maxima = new Deque<Reading>();
  private readonly minima = new Deque<Reading>();

  /** Adds a reading. Times must not decrease from one call to the next. */
  push(at: number, value: number): void {
    const reading = { at, value };

    while (!this.maxima.isEmpty() && this.maxima.peekTail().value < value) {
      this.maxima.popTail();
    }
    this.maxima.pushTail(reading);

    while (!this.minima.isEmpty() && this.minima.peekTail().value > value) {
      this.minima.popTail();
    }
    this.minima.pushTail(reading);
  }

  /** Drops every reading taken at or before `cutoff`. */
  evictUpTo(cutoff: number): void {
    for (const deque of [this.maxima, this.minima]) {
      while (!deque.isEmpty() && deque.peekHead().at <= cutoff) {
        deque.popHead();
      }
    }
  }

  /** Returns the largest value in the window, or `undefined` when it is empty. */
  max(): number | undefined {
    return this.maxima.isEmpty() ? undefined : this.maxima.peekHead().value;
  }

  /** Returns the smallest value in the window, or `undefined` when it is empty. */
  min(): number | undefined {
    return this.minima.isEmpty() ? undefined : this.minima.peekHead().value;
  }

  /** Number of readings kept by the two deques together. */
  get size(): number {
    return this.maxima.length + this.minima.length;
  }

  /** Returns the readings that can still become HIGH or LOW, oldest first. */
  readings(): Reading[] {
    const seen = new Set<Reading>();
    for (const reading of this.maxima.values()) seen.add(reading);
    for (const reading of this.minima.values()) seen.add(reading);
    return [...seen].sort((a, b) => a.at - b.at);
  }
}

/**
 * A double-ended queue on a growable ring buffer. `Array.prototype.shift`
 * is O(n) on large arrays, which would make eviction quadratic.
 */
class Deque<T> {
  private buffer: (T | undefined)[] = new Array(16);
  private head = 0;
  length = 0;

  isEmpty(): boolean {
    return this.length === 0;
  }

  pushTail(item: T): void {
    if (this.length === this.buffer.length) {
      this.grow();
    }
    this.buffer[(this.head + this.length) % this.buffer.length] = item;
    this.length += 1;
  }

  popTail(): T {
    const index = (this.head + this.length - 1) % this.buffer.length;
    const item = this.buffer[index] as T;
    this.buffer[index] = undefined;
    this.length -= 1;
    return item;
  }

  popHead(): T {
    const item = this.buffer[this.head] as T;
    this.buffer[this.head] = undefined;
    this.head = (this.head + 1) % this.buffer.length;
    this.length -= 1;
    return item;
  }

  peekHead(): T {
    return this.buffer[this.head] as T;
  }

  peekTail(): T {
    return this.buffer[(this.head + this.length - 1) % this.buffer.length] as T;
  }

  *values(): IterableIterator<T> {
    for (let i = 0; i < this.length; i++) {
      yield this.buffer[(this.head + i) % this.buffer.length] as T;
    }
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array(this.buffer.length * 2);
    for (let i = 0; i < this.length; i++) {
      next[i] = this.buffer[(this.head + i) % this.buffer.length];
    }
    this.buffer = next;
    this.head = 0;
  }
}
