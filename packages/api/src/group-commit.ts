// Group commit for hot paths whose requests each pay a whole statement for one row (a usage report of one
// call, a webhook's acknowledgement). While the write slots are busy, requests that arrive wait and are
// written together by the next write, and each caller gets its own answer. An idle server writes a request
// at once (no timer, no added latency).
//
// Grouping changes nothing a caller can observe, provided `write` answers each request as it would have
// been answered alone, in order (a key repeated inside one group is a duplicate after its first occurrence,
// as it would be in two writes one after the other). A failing group never fails a request that would
// succeed on its own: when the combined write fails (not because the database is unavailable, which would
// fail each request alike), the group is split in halves, written one after the other (so order and
// duplicates stay as they were), and so on down to single requests: only a request that fails alone gets
// the error, and the others are written with about 2·log2(group size) extra writes. Callers validate their
// input before submitting it, so this is a second line of defence, not the way bad input is handled.
import { isDatabaseUnavailable } from "@minutely/db";
import { UpstreamUnavailableError } from "./errors.ts";

export interface GroupCommitOptions<Req> {
  /**
   * Writes in flight at once (more requests queue until one finishes). Two by default: one group commits
   * while the next forms, and one slow write (waiting on a row lock) does not stop the others.
   */
  slots?: number;
  /** The most a group may hold, counted by `sizeOf` (a group always takes at least one request). */
  maxGroupSize?: number;
  /**
   * The most that may wait for a slot, counted by `sizeOf` (10,000 by default): beyond it a request is
   * refused at once with a 503 to retry (UpstreamUnavailableError), instead of queuing without bound in
   * memory while the database is slow.
   */
  maxWaiting?: number;
  /** A request's size toward `maxGroupSize` and `maxWaiting`: 1 by default. */
  sizeOf?: (request: Req) => number;
  /**
   * Whether a failed group is worth splitting to find the request that fails it. Not when the database is
   * unavailable (by default): every part would fail the same way, and the retries would add load.
   */
  isolate?: (error: unknown) => boolean;
}

interface Waiting<Req, Res> {
  request: Req;
  resolve: (result: Res) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<Req, Res> {
  private readonly slots: number;
  private readonly maxGroupSize: number;
  private readonly sizeOf: (request: Req) => number;
  private readonly isolate: (error: unknown) => boolean;
  private readonly maxWaiting: number;
  private readonly queue: Waiting<Req, Res>[] = [];
  private waitingSize = 0;
  private inFlight = 0;

  /**
   * @param write writes a group of requests in one transaction and answers each, in order (exactly one
   *   answer a request).
   */
  constructor(
    private readonly write: (requests: readonly Req[]) => Promise<readonly Res[]>,
    options: GroupCommitOptions<Req> = {},
  ) {
    this.slots = options.slots ?? 2;
    this.maxGroupSize = options.maxGroupSize ?? 500;
    this.sizeOf = options.sizeOf ?? (() => 1);
    this.isolate = options.isolate ?? ((error) => !isDatabaseUnavailable(error));
    this.maxWaiting = options.maxWaiting ?? 10_000;
  }

  /** Writes one request (grouped with others if the slots are busy); resolves with its own answer. */
  submit(request: Req): Promise<Res> {
    const size = this.sizeOf(request);
    if (this.inFlight >= this.slots && this.waitingSize + size > this.maxWaiting) {
      return Promise.reject(
        new UpstreamUnavailableError(
          "The database is not keeping up with the requests; retry in a moment.",
          5,
        ),
      );
    }
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.waitingSize += size;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.slots && this.queue.length > 0) {
      const group: Waiting<Req, Res>[] = [];
      let size = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0] as Waiting<Req, Res>;
        const nextSize = this.sizeOf(next.request);
        if (group.length > 0 && size + nextSize > this.maxGroupSize) break;
        group.push(next);
        this.queue.shift();
        size += nextSize;
        this.waitingSize -= nextSize;
      }
      this.inFlight += 1;
      void this.writeGroup(group).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async writeGroup(group: readonly Waiting<Req, Res>[]): Promise<void> {
    let answers: readonly Res[];
    try {
      answers = await this.write(group.map((w) => w.request));
      if (answers.length !== group.length) {
        throw new Error(`a group write answered ${answers.length} of ${group.length} requests`);
      }
    } catch (error) {
      if (group.length === 1 || !this.isolate(error)) {
        for (const waiting of group) waiting.reject(error);
        return;
      }
      // Halves, in order, in this slot: the requests that succeed on their own are written, the poison is
      // narrowed down to the request that fails alone.
      const middle = Math.ceil(group.length / 2);
      await this.writeGroup(group.slice(0, middle));
      await this.writeGroup(group.slice(middle));
      return;
    }
    group.forEach((waiting, i) => {
      waiting.resolve(answers[i] as Res);
    });
  }
}
