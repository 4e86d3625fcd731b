// A live stream's wait, without a database: whatever ends it (a change, idleness, the client leaving)
// leaves no timer behind.
import { afterEach, describe, expect, it, vi } from "vitest";
import { LiveHub } from "./live.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("LiveStream.next", () => {
  it("clears its idle timer when the client goes away", async () => {
    vi.useFakeTimers();
    const hub = new LiveHub({});
    const stream = hub.open("user-1", () => true);
    const abort = new AbortController();
    const waiting = stream.next({ idleMs: 900_000, coalesceMs: 0, signal: abort.signal });
    expect(vi.getTimerCount()).toBe(1);
    abort.abort();
    expect(await waiting).toBe("closed");
    expect(vi.getTimerCount()).toBe(0);
    stream.release();
    await hub.close();
  });

  it("answers idle after the idle time, and stops listening to the signal", async () => {
    vi.useFakeTimers();
    const hub = new LiveHub({});
    const stream = hub.open("user-2", () => true);
    const abort = new AbortController();
    const removed = vi.spyOn(abort.signal, "removeEventListener");
    const waiting = stream.next({ idleMs: 1_000, coalesceMs: 0, signal: abort.signal });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await waiting).toBe("idle");
    expect(removed).toHaveBeenCalledWith("abort", expect.any(Function));
    expect(vi.getTimerCount()).toBe(0);
    stream.release();
    await hub.close();
  });
});
