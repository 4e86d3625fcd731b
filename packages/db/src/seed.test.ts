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

  it("prices each package in USD, EUR and GBP (Starter $29 / €29 / £25, Pro $99 / €95 / £85, Enterprise $299 / €289 / £259)", async () => {
    const plans = await db.subscriptionPlan.findMany({
      orderBy: { sortOrder: "asc" },
      include: { currencyPrices: { orderBy: { currency: "asc" } } },
    });
    expect(
      plans.map((p) => [
        p.name,
        p.currencyPrices.map((c) => [c.currency, c.amountCents, c.overagePriceCentsPerMinute]),
      ]),
    ).toEqual([
      [
        "Starter",
        [
          ["eur", 2900, null],
          ["gbp", 2500, null],
          ["usd", 2900, null],
        ],
      ],
      [
        "Pro",
        [
          ["eur", 9500, 3],
          ["gbp", 8500, 3],
          ["usd", 9900, 3],
        ],
      ],
      [
        "Enterprise",
        [
          ["eur", 28900, 2],
          ["gbp", 25900, 2],
          ["usd", 29900, 2],
        ],
      ],
    ]);
  });

  it("seeds an empty catalog once, even when two seeders race", async () => {
    await db.subscriptionPlan.deleteMany();
    const results = await Promise.all([seedCatalog(db), seedCatalog(db)]);
    expect(results.map((r) => r.created).sort()).toEqual([0, 3]);
    expect(await db.subscriptionPlan.count()).toBe(3);
  });
});
