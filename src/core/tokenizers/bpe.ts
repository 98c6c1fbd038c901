/**
 * Rank-based BPE merging on token ids. A merge `(a, b) → c` has a rank (its index in tokenizer.json's
 * `merges`); the word is merged by repeatedly applying the lowest-rank adjacent pair, leftmost first
 * on ties, until no pair has a merge. That is exactly the order of the Hugging Face implementations
 * (Rust's priority queue and `@huggingface/tokenizers`' heap with a position bias).
 */

export const NO_MERGE = 0x7fffffff;

/** What merging needs: the rank of a pair ({@link NO_MERGE} when it does not merge) and what a rank produces. */
export interface MergeRanks {
  rank(a: number, b: number): number;
  /** `mergedId[rank]` is the id the merge of that rank produces. */
  readonly mergedId: Int32Array;
}

/** Open-addressing hash table from an id pair to its merge rank; far faster than a Map of strings. */
export class MergeTable implements MergeRanks {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly ranks: Int32Array;
  private readonly mask: number;
  /** `mergedId[rank]` is the id the merge of that rank produces. */
  readonly mergedId: Int32Array;
  size = 0;

  /** `pairCount`: how many pairs will be set; `rankCount`: ranks run from 0 to rankCount - 1. */
  constructor(pairCount: number, rankCount: number) {
    let capacity = 16;
    while (capacity < pairCount * 2) capacity *= 2;
    this.left = new Int32Array(capacity).fill(-1);
    this.right = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.mergedId = new Int32Array(rankCount).fill(-1);
  }

  private slot(a: number, b: number): number {
    return ((Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0) & this.mask;
  }

  /**
   * Records a merge; a pair listed twice keeps its later rank, as Hugging Face's map does. Several
   * pairs may share a rank when they produce the same token (tiktoken ranks): ties between equal
   * ranks then go to the leftmost pair, as tiktoken does.
   */
  set(a: number, b: number, rank: number, merged: number): void {
    let slot = this.slot(a, b);
    while (this.left[slot] !== -1 && !(this.left[slot] === a && this.right[slot] === b)) slot = (slot + 1) & this.mask;
    if (this.left[slot] === -1) this.size++;
    this.left[slot] = a;
    this.right[slot] = b;
    this.ranks[slot] = rank;
    this.mergedId[rank] = merged;
  }

  /** Rank of the merge of `a` followed by `b`, or {@link NO_MERGE}. */
  rank(a: number, b: number): number {
    let slot = this.slot(a, b);
    for (;;) {
      const left = this.left[slot];
      if (left === -1) return NO_MERGE;
      if (left === a && this.right[slot] === b) return this.ranks[slot];
      slot = (slot + 1) & this.mask;
    }
  }
}

/**
 * Pair ranks computed on first use and memoized (misses too), for tiktoken-format vocabularies where
 * a pair merges when its concatenated bytes are a token, ranked by that token: enumerating every
 * such pair up front costs seconds for 200k tokens, while text only ever meets a small share.
 */
export class LazyPairRanks implements MergeRanks {
  private left: Int32Array;
  private right: Int32Array;
  private ranks: Int32Array;
  private mask: number;
  private size = 0;

  /** `rankOfPair(a, b)` is the rank of the token a+b or NO_MERGE; `mergedId[rank]` what it produces. */
  constructor(
    private readonly rankOfPair: (a: number, b: number) => number,
    readonly mergedId: Int32Array,
  ) {
    this.left = new Int32Array(1 << 16).fill(-1);
    this.right = new Int32Array(1 << 16);
    this.ranks = new Int32Array(1 << 16);
    this.mask = (1 << 16) - 1;
  }

  rank(a: number, b: number): number {
    let slot = ((Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0) & this.mask;
    for (;;) {
      const left = this.left[slot];
      if (left === -1) break;
      if (left === a && this.right[slot] === b) return this.ranks[slot];
      slot = (slot + 1) & this.mask;
    }
    const rank = this.rankOfPair(a, b);
    if (this.size * 2 >= this.mask) {
      this.grow();
      return rank; // re-inserted on the next lookup
    }
    this.left[slot] = a;
    this.right[slot] = b;
    this.ranks[slot] = rank;
    this.size++;
    return rank;
  }

  private grow(): void {
    const { left, right, ranks } = this;
    const capacity = (this.mask + 1) * 2;
    // Past 8M pairs (~100 MB) start over rather than grow without bound.
    const keep = capacity <= 1 << 23;
    const size = keep ? capacity : 1 << 16;
    this.left = new Int32Array(size).fill(-1);
    this.right = new Int32Array(size);
    this.ranks = new Int32Array(size);
    this.mask = size - 1;
    this.size = 0;
    if (!keep) return;
    for (let slot = 0; slot < left.length; slot++) {
      const a = left[slot];
      if (a === -1) continue;
      let target = ((Math.imul(a, 0x9e3779b1) ^ Math.imul(right[slot] + 0x7f4a7c15, 0x85ebca77)) >>> 0) & this.mask;
      while (this.left[target] !== -1) target = (target + 1) & this.mask;
      this.left[target] = a;
      this.right[target] = right[slot];
      this.ranks[target] = ranks[slot];
      this.size++;
    }
  }
}

/** Words longer than this use the heap; shorter ones the quadratic scan, which is faster there. */
const HEAP_THRESHOLD = 48;

/** Merges `ids` (the word's initial byte tokens) in place order; returns the final ids. */
export function bpeMerge(ids: number[], table: MergeRanks): number[] {
  if (ids.length < 2) return ids;
  return ids.length > HEAP_THRESHOLD ? mergeWithHeap(ids, table) : mergeByScan(ids, table);
}

function mergeByScan(ids: number[], table: MergeRanks): number[] {
  let length = ids.length;
  const ranks = new Array<number>(length - 1);
  for (let index = 0; index < length - 1; index++) ranks[index] = table.rank(ids[index], ids[index + 1]);
  for (;;) {
    let best = NO_MERGE;
    let at = -1;
    for (let index = 0; index < length - 1; index++) {
      if (ranks[index] < best) {
        best = ranks[index];
        at = index;
      }
    }
    if (at < 0) break;
    ids[at] = table.mergedId[best];
    // Remove symbol at+1 and the pair rank at `at`.
    for (let index = at + 1; index < length - 1; index++) ids[index] = ids[index + 1];
    for (let index = at; index < length - 2; index++) ranks[index] = ranks[index + 1];
    length--;
    if (at > 0) ranks[at - 1] = table.rank(ids[at - 1], ids[at]);
    if (at < length - 1) ranks[at] = table.rank(ids[at], ids[at + 1]);
  }
  ids.length = length;
  return ids;
}

/**
 * O(n log n) merging for long words (long whitespace runs, minified identifiers): symbols form a
 * linked list, candidate pairs sit in a binary heap keyed by (rank, position). A popped entry is
 * stale when its left symbol was merged away or the pair at that position now has another rank;
 * a pair with the same rank merges into the same token, so it is a valid entry for that position.
 */
function mergeWithHeap(ids: number[], table: MergeRanks): number[] {
  const length = ids.length;
  const token = Int32Array.from(ids);
  const next = new Int32Array(length);
  const prev = new Int32Array(length);
  const alive = new Uint8Array(length).fill(1);
  for (let index = 0; index < length; index++) {
    next[index] = index + 1 < length ? index + 1 : -1;
    prev[index] = index - 1;
  }
  // Heap of keys rank * 2^32 + position, exact in a double for ranks below 2^21.
  let heap = new Float64Array(length);
  let heapSize = 0;
  const push = (key: number): void => {
    if (heapSize === heap.length) {
      const grown = new Float64Array(heap.length * 2);
      grown.set(heap);
      heap = grown;
    }
    let index = heapSize++;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent] <= key) break;
      heap[index] = heap[parent];
      index = parent;
    }
    heap[index] = key;
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap[--heapSize];
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= heapSize) break;
      if (child + 1 < heapSize && heap[child + 1] < heap[child]) child++;
      if (heap[child] >= last) break;
      heap[index] = heap[child];
      index = child;
    }
    heap[index] = last;
    return top;
  };
  const TWO_32 = 4294967296;
  const consider = (position: number): void => {
    const right = next[position];
    if (right < 0) return;
    const rank = table.rank(token[position], token[right]);
    if (rank !== NO_MERGE) push(rank * TWO_32 + position);
  };
  for (let index = 0; index < length - 1; index++) consider(index);
  while (heapSize > 0) {
    const key = pop();
    const rank = Math.floor(key / TWO_32);
    const position = key - rank * TWO_32;
    const right = next[position];
    if (!alive[position] || right < 0 || table.rank(token[position], token[right]) !== rank) continue;
    token[position] = table.mergedId[rank];
    alive[right] = 0;
    const after = next[right];
    next[position] = after;
    if (after >= 0) prev[after] = position;
    if (prev[position] >= 0) consider(prev[position]);
    consider(position);
  }
  const result: number[] = [];
  for (let index = 0; index >= 0; index = next[index]) result.push(token[index]);
  return result;
}
