import { describe, expect, it } from "vitest";
import { UpstreamUnavailableError } from "./errors.ts";
import { GroupCommit } from "./group-commit.ts";

/** A write whose groups finish when the test says so. */
function held() {
  const groups: { requests: readonly number[]; finish: () => void }[] = [];
  const write = (requests: readonly number[]) =>
    new Promise<readonly string[]>((resolve) => {
      groups.push({ requests, finish: () => resolve(requests.map((r) => `ok ${r}`)) });
    });
  return { groups, write };
}

describe("GroupCommit", () => {
  it("groups what waited for the busy slot, each answered with its own result", async () => {
    const { groups, write } = held();
    const commit = new GroupCommit(write, { slots: 1 });
    const first = commit.submit(1);
    const rest = [commit.submit(2), commit.submit(3)];
    expect(groups.map((g) => g.requests)).toEqual([[1]]);
    groups[0]?.finish();
    expect(await first).toBe("ok 1");
    await new Promise((r) => setImmediate(r));
    expect(groups.map((g) => g.requests)).toEqual([[1], [2, 3]]);
    groups[1]?.finish();
    expect(await Promise.all(rest)).toEqual(["ok 2", "ok 3"]);
  });

  it("refuses at once with a 503 to retry what would make the waiting line longer than its bound, and takes requests again once it shortens", async () => {
    const { groups, write } = held();
    const commit = new GroupCommit(write, { slots: 1, maxWaiting: 5, sizeOf: (n: number) => n });
    const first = commit.submit(1); // in flight
    const waiting = [commit.submit(2), commit.submit(3)]; // 5 waiting
    await expect(commit.submit(1)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    groups[0]?.finish();
    await first;
    await new Promise((r) => setImmediate(r));
    // The two waiting ones are in flight now: the line is empty again.
    const later = commit.submit(4);
    groups[1]?.finish();
    expect(await Promise.all(waiting)).toEqual(["ok 2", "ok 3"]);
    await new Promise((r) => setImmediate(r));
    groups[2]?.finish();
    expect(await later).toBe("ok 4");
  });

  it("fails a group's requests when the write answers some of them only", async () => {
    const commit = new GroupCommit(async (requests: readonly number[]) => requests.slice(1), { slots: 1 });
    await expect(commit.submit(1)).rejects.toThrow(/answered 0 of 1/);
  });
});
