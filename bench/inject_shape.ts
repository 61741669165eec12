/**
 * How the bench's injection callers submit: `bench/inject.ts` over HTTP, and the journal's closed-loop
 * passes (`bench/journal.ts`) to the writer directly, in the same shape so that the two compare.
 */

/** Concurrent callers, each with one document in flight, sending the next once the last is durable. */
export const INJECT_CLIENTS = 8;

/** Datasets per document: each dataset's replica at the new site and its block replicas (110 objects). */
export const DATASETS_PER_DOCUMENT = 10;

/**
 * Datasets per document of the injection's second set of passes (1,100 objects): the same clients with
 * ten times as much in flight, so that transactions are as large as the journal's batches make them.
 */
export const LARGE_DOCUMENT_DATASETS = 100;
