// Group commit for usage ingestion (group-commit.ts). The calling platform may report every call on its
// own; each report then pays a whole transaction (the events insert, two rollup upserts, reservations,
// thresholds) for one row. While the write slots are busy, reports that arrive wait and are written
// together in the next transaction, and each caller gets its own slice of the answer. Small reports and
// big batches wait in two lines, each with its own slots (one transaction of small reports in flight, two
// of batches): a report of one call never queues behind a transaction of two thousand events (it may still
// wait for a period row such a transaction holds). Big batches are grouped too: concurrent batches that each report
// calls of many accounts update the same period rows, so their transactions wait on one another in
// PostgreSQL (16 batches of 500 at once wrote 7,000 events/s, two slots of up to 2,000 events 19,000:
// bench/README.md). Results are per event, so combining changes nothing a caller can observe: a call_id
// repeated across the reports of one group is "duplicate" after its first occurrence exactly as it would
// be in two transactions one after the other; a group that fails is split until the report that fails
// alone is found.
import { GroupCommit } from "../../group-commit.ts";
import {
  type IngestResult,
  MAX_EVENTS_PER_BATCH,
  MAX_EVENTS_PER_TRANSACTION,
  type UsageEventInput,
} from "./usage-ingest.ts";

export interface UsageCoalescerOptions {
  /**
   * Transactions of small reports in flight at once (more queue until one finishes). One by default: the
   * reports that arrive while it is written share the next one. Measured with `pnpm bench` on two cores,
   * 2026-12-07 (alternated runs, 16 connections of single-event reports): one slot 1,529-1,768 reports a
   * second, two 1,308-1,425; each transaction costs PostgreSQL the same few statements whatever it holds,
   * and fewer, larger ones cost less in all. (Before the report's statements were cut to four, two slots
   * measured better: 915 against 620-670 with four.) A report waiting for a locked period row holds the
   * line meanwhile; batches have their own line.
   */
  slots?: number;
  /** Reports with more events than this are big: they wait in their own line. */
  smallBatch?: number;
  /** Events per combined transaction of small reports at most. */
  maxEvents?: number;
  /** Transactions of big reports in flight at once: two by default (one commits while the next forms). */
  bigSlots?: number;
  /** Events per combined transaction of big reports at most (a bigger report is written alone). */
  maxBigEvents?: number;
  /** Events that may wait for a slot at most, in each line (beyond: a 503 to retry). */
  maxWaiting?: number;
  /**
   * Whether a failed group is worth splitting to find the report that fails it. Not when the database is
   * unavailable (by default): every part would fail the same way, and the retries would add load.
   */
  isolate?: (error: unknown) => boolean;
}

/** The answer for one report, cut from the combined answer. */
function sliceOf(result: IngestResult, from: number, count: number): IngestResult {
  const results = result.results.slice(from, from + count);
  return {
    results,
    accepted: results.filter((r) => r.status === "accepted").length,
    duplicates: results.filter((r) => r.status === "duplicate").length,
    rejected: results.filter((r) => r.status === "rejected").length,
    late: results.filter((r) => r.status === "accepted" && r.late).length,
  };
}

export class UsageIngestCoalescer {
  private readonly smallBatch: number;
  private readonly small: GroupCommit<readonly UsageEventInput[], IngestResult>;
  private readonly big: GroupCommit<readonly UsageEventInput[], IngestResult>;

  constructor(
    private readonly ingest: (events: readonly UsageEventInput[]) => Promise<IngestResult>,
    options: UsageCoalescerOptions = {},
  ) {
    this.smallBatch = options.smallBatch ?? 50;
    const line = (slots: number, maxEvents: number) =>
      new GroupCommit<readonly UsageEventInput[], IngestResult>(
        async (reports) => {
          const combined = await this.ingest(reports.flat());
          let from = 0;
          return reports.map((events) => {
            const answer = sliceOf(combined, from, events.length);
            from += events.length;
            return answer;
          });
        },
        {
          slots,
          maxGroupSize: Math.min(maxEvents, MAX_EVENTS_PER_TRANSACTION),
          // 20,000 events may wait for a slot in each line; beyond, a 503 to retry.
          maxWaiting: options.maxWaiting ?? 20_000,
          sizeOf: (events) => events.length,
          ...(options.isolate ? { isolate: options.isolate } : {}),
        },
      );
    this.small = line(options.slots ?? 1, options.maxEvents ?? MAX_EVENTS_PER_BATCH);
    this.big = line(options.bigSlots ?? 2, options.maxBigEvents ?? MAX_EVENTS_PER_TRANSACTION);
  }

  /** Records one report's events; resolves with the results of exactly those events, in their order. */
  submit(events: readonly UsageEventInput[]): Promise<IngestResult> {
    if (events.length === 0) return this.ingest(events);
    return (events.length > this.smallBatch ? this.big : this.small).submit(events);
  }
}
