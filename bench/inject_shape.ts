/**
 * How the bench's injection callers submit: `bench/inject.ts` over HTTP, and the journal's closed-loop
 * passes (`bench/journal.ts`) to the writer directly, in the same shape so that the two compare.
 */

/** Concurrent callers, each with one document in flight, sending the next once the last is durable. */
export const INJECT_CLIENTS = 8;

/** Datasets per document: each dataset's replica at the new site and its block replicas (110 objects). */
export const DATASETS_PER_DOCUMENT = 10;
