/** The Dealer's cycle history in the database: cycles, decisions, transfer outcomes. */
import type {
  DealerCycleEnd,
  DealerCycleRecord,
  DealerCycleStart,
  DealerDecisionRow,
} from "../../registry/requests/dealer_run.ts";

export type { DealerCycleEnd, DealerCycleRecord, DealerCycleStart, DealerDecisionRow };

export interface DealerHistory {
  startCycle(start: DealerCycleStart): Promise<number>;
  finishCycle(id: number, end: DealerCycleEnd): Promise<void>;
  cycles(filter: { limit?: number; modes?: string[] }): Promise<DealerCycleRecord[]>;
  cycle(id: number): Promise<DealerCycleRecord | null>;
  decisions(filter: { cycleId?: number; dataset?: string; limit?: number }): Promise<
    (DealerDecisionRow & { cycleId: number })[]
  >;
  /** Finished copy operations per site since a time: the reliability history. */
  transferOutcomes(sinceMs: number): Promise<Map<string, { done: number; failed: number }>>;
}
