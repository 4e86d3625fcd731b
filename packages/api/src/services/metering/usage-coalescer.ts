// Group commit for usage ingestion. The calling platform may report every call on its own; each report
// then pays a whole transaction (the events insert, two rollup upserts, reservations, thresholds) for one
// row. While the coalescer's write slots are busy, small reports that arrive wait and are written together
// in the next transaction, and each caller gets its own slice of the answer. An idle server writes a report
// at once (no timer, no added latency); big batches are already efficient and go straight through.
//
// Combining changes nothing a caller can observe: results are per event, a call_id repeated across the
// reports of one group is "duplicate" after its first occurrence exactly as it would be in two transactions
// one after the other, and a failing group never fails a report that would succeed on its own: when the
// combined transaction fails (not because the database is unavailable, which would fail each report alike),
// the group is split in halves, written one after the other (so order and duplicates stay as they were),
// and so on down to single reports: only a report that fails alone gets the error, and the others are
// written with about 2·log2(group size) extra transactions. Ingestion validates every event before writing,
// so this is a second line of defence, not the way bad input is handled.
import { isDatabaseUnavailable } from "@minutely/db";
import { type IngestResult, MAX_EVENTS_PER_BATCH, type UsageEventInput } from "./usage-ingest.ts";

export interface UsageCoalescerOptions {
  /**
   * Transactions of small reports in flight at once (more queue until one finishes). Two by default: one
   * group commits while the next forms, and one slow transaction (waiting on an account's rollup row) does
   * not stop the others. More slots make smaller groups that contend on the same rows: on two cores with
   * a fresh database, 4 slots wrote about 620-670 single-event reports a second and 2 about 915 (p99 ~60
   * vs ~55 ms); `pnpm bench`, whose database holds a million events by then, moved from 545 to 576.
   */
  slots?: number;
  /** Reports with more events than this skip the queue. */
  smallBatch?: number;
  /** Events per combined transaction at most. */
  maxEvents?: number;
  /**
   * Whether a failed group is worth splitting to find the report that fails it. Not when the database is
   * unavailable (by default): every part would fail the same way, and the retries would add load.
   */
  isolate?: (error: unknown) => boolean;
}

interface Waiting {
  events: readonly UsageEventInput[];
  resolve: (result: IngestResult) => void;
  reject: (error: unknown) => void;
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
  private readonly slots: number;
  private readonly smallBatch: number;
  private readonly maxEvents: number;
  private readonly isolate: (error: unknown) => boolean;
  private readonly queue: Waiting[] = [];
  private inFlight = 0;

  constructor(
    private readonly ingest: (events: readonly UsageEventInput[]) => Promise<IngestResult>,
    options: UsageCoalescerOptions = {},
  ) {
    this.slots = options.slots ?? 2;
    this.smallBatch = options.smallBatch ?? 50;
    this.maxEvents = Math.min(options.maxEvents ?? MAX_EVENTS_PER_BATCH, MAX_EVENTS_PER_BATCH);
    this.isolate = options.isolate ?? ((error) => !isDatabaseUnavailable(error));
  }

  /** Records one report's events; resolves with the results of exactly those events, in their order. */
  submit(events: readonly UsageEventInput[]): Promise<IngestResult> {
    if (events.length === 0 || events.length > this.smallBatch) return this.ingest(events);
    return new Promise<IngestResult>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.slots && this.queue.length > 0) {
      const group: Waiting[] = [];
      let size = 0;
      while (this.queue.length > 0 && size + (this.queue[0]?.events.length ?? 0) <= this.maxEvents) {
        const next = this.queue.shift() as Waiting;
        group.push(next);
        size += next.events.length;
      }
      this.inFlight += 1;
      void this.write(group).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async write(group: readonly Waiting[]): Promise<void> {
    try {
      const combined = await this.ingest(group.flatMap((w) => w.events));
      let from = 0;
      for (const waiting of group) {
        waiting.resolve(sliceOf(combined, from, waiting.events.length));
        from += waiting.events.length;
      }
    } catch (error) {
      if (group.length === 1 || !this.isolate(error)) {
        for (const waiting of group) waiting.reject(error);
        return;
      }
      // Halves, in order, in this slot: the reports that succeed on their own are written, the poison is
      // narrowed down to the report that fails alone.
      const middle = Math.ceil(group.length / 2);
      await this.write(group.slice(0, middle));
      await this.write(group.slice(middle));
    }
  }
}
