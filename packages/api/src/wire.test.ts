import fc from "fast-check";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { serializeAnswer } from "./wire.ts";

/** Plain answers: JSON values with Dates and undefined mixed in, as the routers return them. */
const answer = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.date({ noInvalidDate: true }),
    fc.constant(undefined),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie("value"), { maxKeys: 5 }),
  ),
})).value;

describe("serializeAnswer", () => {
  it("writes exactly what superjson writes, for any plain answer", () => {
    fc.assert(
      fc.property(answer, (value) => {
        expect(serializeAnswer(value)).toEqual(superjson.serialize(value));
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips through superjson's deserialize", () => {
    const value = {
      at: new Date("2026-12-07T10:00:00Z"),
      list: [{ day: new Date("2026-12-01T00:00:00Z"), minutes: 3 }, undefined, null],
      nothing: undefined,
      nested: { deeper: [[new Date(0)]] },
    };
    expect(superjson.deserialize(serializeAnswer(value))).toEqual(value);
    expect(serializeAnswer(value)).toEqual(superjson.serialize(value));
  });

  it("hands what it does not write itself to superjson, with the same result", () => {
    const shared = { a: 1 };
    const odd: unknown[] = [
      new Date(0),
      undefined,
      { n: Number.NaN },
      { m: -0 },
      { i: Number.POSITIVE_INFINITY },
      { big: 10n },
      { map: new Map([["k", 1]]) },
      { set: new Set([1]) },
      { bad: new Date(Number.NaN) },
      { a: shared, b: shared },
      { "x.y": new Date(0) },
      { "a\\b": 1 },
      { nested: new (class Thing {})() },
    ];
    for (const value of odd) expect(serializeAnswer(value)).toEqual(superjson.serialize(value));
  });
});
