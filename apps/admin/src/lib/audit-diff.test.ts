import { describe, expect, it } from "vitest";
import { changedFields } from "./audit-diff.ts";

describe("changedFields", () => {
  it("lists the fields whose value changed, ignoring updatedAt", () => {
    expect(
      changedFields(
        { name: "Starter", active: true, prices: [1], updatedAt: "a" },
        { name: "Starter", active: false, prices: [1, 2], updatedAt: "b" },
      ),
    ).toEqual([
      { field: "active", before: true, after: false },
      { field: "prices", before: [1], after: [1, 2] },
    ]);
  });

  it("shows every field of something created, and added or removed fields", () => {
    expect(changedFields(null, { id: "x", name: "Scale" })).toEqual([
      { field: "id", before: undefined, after: "x" },
      { field: "name", before: undefined, after: "Scale" },
    ]);
    expect(changedFields({ a: 1 }, { b: 2 })).toEqual([
      { field: "a", before: 1, after: undefined },
      { field: "b", before: undefined, after: 2 },
    ]);
  });

  it("has nothing to list for values that are not records", () => {
    expect(changedFields(undefined, undefined)).toEqual([]);
    expect(changedFields(["a"], "b")).toEqual([]);
  });
});
