/** One key to record, as {@link ReplayWriteBatch} hands it to its writer. */
export interface ReplayBatchEntry {
  readonly key: string;
  readonly expiresAt: Date;
}

/**
 * Writes one batch in one all-or-nothing unit (a transaction or a single statement) and answers,
 * per entry and in order, whether its key was new. Of two entries with the same key, only the
 * first may be answered `true`. Throws (or rejects) when nothing of the batch was stored.
 */
export type ReplayBatchWriter = (
  entries: readonly ReplayBatchEntry[],
) => Promise<readonly boolean[]> | readonly boolean[];

/** Options of {@link ReplayWriteBatch}. */
export interface ReplayWriteBatchOptions {
  /** Most entries per batch; a batch that reaches it is written at once. Default 256. */
  readonly maxBatchSize?: number;
}

/** Default of {@link ReplayWriteBatchOptions.maxBatchSize}. */
export const DEFAULT_REPLAY_BATCH_SIZE = 256;

interface Pending extends ReplayBatchEntry {
  resolve(isNew: boolean): void;
  reject(error: unknown): void;
}

/**
 * Group commit for a replay store (SPEC S5): the `add` calls of one event-loop turn are collected
 * and handed to the writer together, once the turn's I/O callbacks have run (`setImmediate`) or
 * as soon as the batch reaches `maxBatchSize`. Each caller learns the answer for its own entry
 * only after the writer has finished (the batch is durable). When the writer fails, every caller
 * of that batch receives its error, and the next batch starts afresh.
 *
 * Batches may be written concurrently (one starts while an earlier one is still in flight); a
 * writer that must not overlap serialises itself. Framework-free: the writer owns the storage.
 *
 * @example
 * ```ts
 * const batch = new ReplayWriteBatch((entries) => insertAllInOneTransaction(entries));
 * const [a, b] = await Promise.all([batch.add('k1', exp), batch.add('k1', exp)]); // true, false
 * ```
 */
export class ReplayWriteBatch {
  readonly #write: ReplayBatchWriter;
  readonly #maxBatchSize: number;
  #pending: Pending[] = [];
  #scheduled = false;

  constructor(write: ReplayBatchWriter, options: ReplayWriteBatchOptions = {}) {
    const maxBatchSize = options.maxBatchSize ?? DEFAULT_REPLAY_BATCH_SIZE;
    if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new RangeError('maxBatchSize must be a positive integer');
    }
    this.#write = write;
    this.#maxBatchSize = maxBatchSize;
  }

  /** How many entries wait for the next batch (not counting batches already being written). */
  get waiting(): number {
    return this.#pending.length;
  }

  /**
   * Queues `key` for the current batch; resolves `true` when the writer stored it as new, `false`
   * when it was present already (or came earlier in the same batch). Rejects with the writer's
   * error when the batch failed.
   */
  add(key: string, expiresAt: Date): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#pending.push({ key, expiresAt, resolve, reject });
      if (this.#pending.length >= this.#maxBatchSize) {
        this.#flush();
      } else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  /** Hands the current batch to the writer and settles its callers. */
  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    // Through a promise, so a writer that throws synchronously fails its batch, not its caller.
    Promise.resolve()
      .then(() => this.#write(batch))
      .then((answers) => {
        if (!Array.isArray(answers) || answers.length !== batch.length) {
          throw new TypeError(
            `replay batch writer answered ${String(answers?.length)} of ${batch.length} entries`,
          );
        }
        batch.forEach((entry, i) => entry.resolve(answers[i] === true));
      })
      .catch((error: unknown) => {
        for (const entry of batch) entry.reject(error);
      });
  }
}
