import { describe, expect, it } from "vitest";
import { seedCatalog } from "./seed.ts";
import { testDatabase } from "./vitest.ts";

const { db } = await testDatabase();

describe("seedCatalog", () => {
  it("holds the three packages exactly as specified, and re-seeding changes nothing", async () => {
    expect(await seedCatalog(db)).toEqual({ created: 0 });
    const plans = await db.subscriptionPlan.findMany({ orderBy: { sortOrder: "asc" } });
    expect(
      plans.map((p) => [
        p.name,
        p.monthlyPriceCents,
        p.currency,
        p.callMinutesLimit,
        p.agentsAllowed,
        p.analyticsAccess,
        p.apiAccess,
        p.recommended,
        p.active,
      ]),
    ).toEqual([
      ["Starter", 2900, "usd", 1000, 1, false, false, false, true],
      ["Pro", 9900, "usd", 3000, 5, true, false, true, true],
      ["Enterprise", 29900, "usd", 10000, 25, true, true, false, true],
    ]);
  });

  it("seeds an empty catalog once, even when two seeders race", async () => {
    await db.subscriptionPlan.deleteMany();
    const results = await Promise.all([seedCatalog(db), seedCatalog(db)]);
    expect(results.map((r) => r.created).sort()).toEqual([0, 3]);
    expect(await db.subscriptionPlan.count()).toBe(3);
  });
});
