import { describe, expect, it } from "vitest";
import { UsageIngestCoalescer } from "./usage-coalescer.ts";
import type { IngestResult, UsageEventInput, UsageEventResult } from "./usage-ingest.ts";

const event = (callId: string): UsageEventInput => ({
  callId,
  accountId: "00000000-0000-4000-8000-000000000001",
  agentId: null,
  direction: "inbound",
  startedAt: new Date("2026-11-27T10:00:00Z"),
  durationSeconds: 61,
});

/**
 * A stand-in for ingestUsageEvents with its observable rules (first occurrence of a call_id accepted, later
 * ones duplicate, across transactions too), whose transactions finish when the test says so.
 */
class FakeIngest {
  readonly seen = new Set<string>();
  readonly calls: string[][] = [];
  private readonly pending: { finish: () => void; fail: (error: Error) => void }[] = [];

  readonly ingest = (events: readonly UsageEventInput[]): Promise<IngestResult> => {
    this.calls.push(events.map((e) => e.callId));
    return new Promise((resolve, reject) => {
      this.pending.push({
        finish: () => {
          const results: UsageEventResult[] = events.map((e) => {
            if (this.seen.has(e.callId)) return { callId: e.callId, status: "duplicate" };
            this.seen.add(e.callId);
            return {
              callId: e.callId,
              status: "accepted",
              billableMinutes: 2,
              durationSeconds: 61,
              periodStart: new Date("2026-11-01T00:00:00Z"),
              late: false,
            };
          });
          const accepted = results.filter((r) => r.status === "accepted").length;
          resolve({ results, accepted, duplicates: results.length - accepted, rejected: 0, late: 0 });
        },
        fail: reject,
      });
    });
  };

  /** Transactions finished or failed so far. */
  finished = 0;

  /** Finishes the oldest transaction in flight, then lets the coalescer react. */
  async finishNext(): Promise<void> {
    this.finished += 1;
    this.pending.shift()?.finish();
    await new Promise((r) => setImmediate(r));
  }

  async failNext(): Promise<void> {
    this.finished += 1;
    this.pending.shift()?.fail(new Error("connection lost"));
    await new Promise((r) => setImmediate(r));
  }
}

describe("UsageIngestCoalescer", () => {
  it("writes a report at once when a slot is free, alone", async () => {
    const fake = new FakeIngest();
    const coalescer = new UsageIngestCoalescer(fake.ingest, { slots: 1 });
    const answer = coalescer.submit([event("a")]);
    expect(fake.calls).toEqual([["a"]]);
    await fake.finishNext();
    expect((await answer).accepted).toBe(1);
  });

  it("writes the reports that waited for a busy slot in one transaction, answering each with its own events", async () => {
    const fake = new FakeIngest();
    const coalescer = new UsageIngestCoalescer(fake.ingest, { slots: 1 });
    const first = coalescer.submit([event("a")]);
    const waiting = [
      coalescer.submit([event("b"), event("c")]),
      coalescer.submit([event("b")]), // the same call reported twice, in two reports of one group
      coalescer.submit([event("d")]),
    ];
    expect(fake.calls).toEqual([["a"]]);
    await fake.finishNext();
    expect(fake.calls).toEqual([["a"], ["b", "c", "b", "d"]]);
    await fake.finishNext();
    expect((await first).results.map((r) => r.status)).toEqual(["accepted"]);
    const [bc, b, d] = await Promise.all(waiting);
    expect(bc?.results.map((r) => [r.callId, r.status])).toEqual([
      ["b", "accepted"],
      ["c", "accepted"],
    ]);
    expect(bc).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(b).toMatchObject({ accepted: 0, duplicates: 1, results: [{ callId: "b", status: "duplicate" }] });
    expect(d).toMatchObject({ accepted: 1, results: [{ callId: "d", status: "accepted" }] });
  });

  it("fails every report of a transaction that failed for want of a database, and keeps going", async () => {
    const fake = new FakeIngest();
    // "connection lost" stands for an unavailable database: no report would succeed alone either.
    const coalescer = new UsageIngestCoalescer(fake.ingest, { slots: 1, isolate: () => false });
    const first = coalescer.submit([event("a")]);
    const grouped = [coalescer.submit([event("b")]), coalescer.submit([event("c")])].map((answer) =>
      answer.then(
        () => "written",
        (error: Error) => error.message,
      ),
    );
    await fake.finishNext();
    await fake.failNext();
    expect(await Promise.all(grouped)).toEqual(["connection lost", "connection lost"]);
    expect((await first).accepted).toBe(1);
    const retried = coalescer.submit([event("b"), event("c")]);
    await fake.finishNext();
    expect((await retried).accepted).toBe(2);
  });

  it("splits a failed group until the report that fails alone is found, writing all the others", async () => {
    const fake = new FakeIngest();
    const coalescer = new UsageIngestCoalescer(fake.ingest, { slots: 1 });
    const first = coalescer.submit([event("a")]);
    const ids = ["b", "c", "poison", "d", "e"];
    const answers = ids.map((id) =>
      coalescer.submit([event(id)]).then(
        (result) => result.results[0]?.status,
        (error: Error) => error.message,
      ),
    );
    await fake.finishNext(); // "a"
    // Every transaction holding the poisoned report fails; the others succeed.
    while (fake.calls.length > fake.finished) {
      const next = fake.calls[fake.finished] as string[];
      if (next.includes("poison")) await fake.failNext();
      else await fake.finishNext();
    }
    expect(await Promise.all(answers)).toEqual([
      "accepted",
      "accepted",
      "connection lost",
      "accepted",
      "accepted",
    ]);
    expect((await first).accepted).toBe(1);
    // Halves in order: [b c poison] fails, then [b c] is written before [poison], then [d e].
    expect(fake.calls).toEqual([["a"], ids, ["b", "c", "poison"], ["b", "c"], ["poison"], ["d", "e"]]);
  });

  it("writes big reports in a line of their own: small reports never wait behind them", async () => {
    const fake = new FakeIngest();
    const coalescer = new UsageIngestCoalescer(fake.ingest, {
      slots: 1,
      smallBatch: 3,
      maxEvents: 4,
      bigSlots: 1,
      maxBigEvents: 25,
    });
    const big = (name: string, size: number) => Array.from({ length: size }, (_, i) => event(`${name}-${i}`));
    const firstSmall = coalescer.submit([event("a")]);
    const firstBig = coalescer.submit(big("x", 10)); // the big line's slot is free: written at once
    const bigs = [coalescer.submit(big("y", 10)), coalescer.submit(big("z", 10))];
    const alone = coalescer.submit(big("w", 30)); // more than a group takes: written alone
    const small = ["b", "c", "d", "e", "f"].map((id) => coalescer.submit([event(id), event(`${id}2`)]));
    expect(fake.calls.map((c) => c.length)).toEqual([1, 10]);
    // The small line's transaction finishes first; its next group does not wait for the big line.
    await fake.finishNext();
    expect(fake.calls.slice(2)).toEqual([["b", "b2", "c", "c2"]]);
    await fake.finishNext(); // the big one: y and z (20 events) are written together; w waits
    expect(fake.calls[3]).toEqual([...big("y", 10), ...big("z", 10)].map((e) => e.callId));
    while (fake.calls.length < 7) await fake.finishNext();
    expect(fake.calls.slice(4).map((c) => c.length)).toEqual([4, 30, 2]);
    for (let i = 0; i < 3; i++) await fake.finishNext();
    expect((await firstSmall).accepted).toBe(1);
    expect((await firstBig).accepted).toBe(10);
    expect((await Promise.all(bigs)).map((r) => r.results.map((x) => x.callId))).toEqual([
      big("y", 10).map((e) => e.callId),
      big("z", 10).map((e) => e.callId),
    ]);
    expect((await alone).accepted).toBe(30);
    expect((await Promise.all(small)).map((r) => r.accepted)).toEqual([2, 2, 2, 2, 2]);
  });

  it("never groups more small events than a transaction takes", async () => {
    const fake = new FakeIngest();
    const coalescer = new UsageIngestCoalescer(fake.ingest, { slots: 1, smallBatch: 3, maxEvents: 4 });
    void coalescer.submit([event("a")]);
    const small = ["b", "c", "d", "e", "f"].map((id) => coalescer.submit([event(id), event(`${id}2`)]));
    while (fake.calls.length < 4) await fake.finishNext();
    expect(fake.calls.slice(1)).toEqual([
      ["b", "b2", "c", "c2"],
      ["d", "d2", "e", "e2"],
      ["f", "f2"],
    ]);
    for (let i = 0; i < 4; i++) await fake.finishNext();
    expect((await Promise.all(small)).map((r) => r.accepted)).toEqual([2, 2, 2, 2, 2]);
  });
});
