/**
 * A bounded queue between forwarding and the writer. `offer` never blocks and
 * never grows the queue past its capacity: a full queue refuses, and the
 * caller counts the drop.
 */
export class BoundedQueue<T> {
  #items: T[] = [];
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get length(): number {
    return this.#items.length;
  }

  /** Adds an item; false when the queue is full. */
  offer(item: T): boolean {
    if (this.#items.length >= this.capacity) return false;
    this.#items.push(item);
    return true;
  }

  /** Takes every queued item at once (a batch). */
  drain(): T[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }
}
