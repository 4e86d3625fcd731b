// The admin lists' SQL of "the account's current period" against the one definition in the domain
// (`currentBillingPeriod` at `accountNow`), on real PostgreSQL: any period, wall clock and test clock.
import { Prisma } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import { accountNow, addMonthsClamped, currentBillingPeriod } from "@minutely/domain";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currentPeriodOf } from "./sql.ts";

const { db } = await testDatabase();

async function sqlPeriod(start: Date, end: Date, wallNow: Date, testClockTime: Date | null) {
  const [row] = await db.$queryRaw<{ period_start: Date; period_end: Date }[]>`
    SELECT cp.period_start, cp.period_end
    FROM (SELECT ${start}::timestamptz AS current_period_start, ${end}::timestamptz AS current_period_end,
      ${testClockTime}::timestamptz AS test_clock_time) s
    CROSS JOIN LATERAL (${currentPeriodOf("s", wallNow)}) cp`;
  if (!row) throw new Error("no row");
  return { start: row.period_start, end: row.period_end };
}

const MIN = Date.UTC(1990, 0, 1);
const MAX = Date.UTC(2090, 0, 1);
const instant = fc.integer({ min: MIN, max: MAX }).map((ms) => new Date(ms));
// Period ends on the days that clamp (29th-31st) as often as on the others.
const periodEnd = fc
  .tuple(
    fc.integer({ min: 1995, max: 2080 }),
    fc.integer({ min: 0, max: 11 }),
    fc.oneof(fc.integer({ min: 1, max: 28 }), fc.integer({ min: 28, max: 31 })),
    fc.integer({ min: 0, max: 86_399_999 }),
  )
  .map(([year, month0, day, ms]) => {
    const d = new Date(Date.UTC(year, month0, 1) + ms);
    d.setUTCDate(Math.min(day, new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate()));
    return d;
  });

describe("currentPeriodOf (SQL) is the domain's currentBillingPeriod at accountNow", () => {
  it("for any period, wall clock and test clock", async () => {
    await fc.assert(
      fc.asyncProperty(
        periodEnd,
        fc.integer({ min: -40, max: 400 }).map((days) => days * 86_400_000),
        fc.integer({ min: 0, max: 86_399_999 }),
        fc.option(instant, { nil: null }),
        async (end, offsetDays, offsetMs, testClockTime) => {
          const start = addMonthsClamped(end, -1);
          const wallNow = new Date(end.getTime() + offsetDays + offsetMs);
          const expected = currentBillingPeriod(
            { currentPeriodStart: start, currentPeriodEnd: end },
            accountNow(wallNow, testClockTime),
          );
          expect(await sqlPeriod(start, end, wallNow, testClockTime)).toEqual(expected);
        },
      ),
      { numRuns: 400, seed: 20261206 },
    );
  });

  it("on the boundaries: at the end exactly, a clamped month, and a test clock ahead of the wall", async () => {
    const end = new Date("2027-01-31T10:00:00Z");
    const start = new Date("2026-12-31T10:00:00Z");
    expect(await sqlPeriod(start, end, new Date("2027-01-31T09:59:59.999Z"), null)).toEqual({ start, end });
    expect(await sqlPeriod(start, end, end, null)).toEqual({
      start: end,
      end: new Date("2027-02-28T10:00:00Z"),
    });
    expect(await sqlPeriod(start, end, new Date("2027-03-30T00:00:00Z"), null)).toEqual({
      start: new Date("2027-02-28T10:00:00Z"),
      end: new Date("2027-03-31T10:00:00Z"),
    });
    expect(
      await sqlPeriod(start, end, new Date("2027-01-01T00:00:00Z"), new Date("2027-04-01T00:00:00Z")),
    ).toEqual({
      start: new Date("2027-03-31T10:00:00Z"),
      end: new Date("2027-04-30T10:00:00Z"),
    });
  });

  it("refuses anything but an alias", () => {
    expect(() => currentPeriodOf("s; DROP TABLE account", new Date())).toThrow(/not an alias/);
    expect(Prisma.sql`${currentPeriodOf("s", new Date())}`.sql).toContain("s.current_period_end");
  });
});
