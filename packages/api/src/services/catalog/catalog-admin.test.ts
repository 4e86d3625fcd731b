import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { testPorts } from "../../testing.ts";
import { packageSelection } from "../subscriptions/package-selection.ts";
import {
  createPackage,
  listPackagesForAdmin,
  type PackageInput,
  reorderPackages,
  setPackageActive,
  syncCatalogToStripe,
  updatePackage,
  ZPackageInputSchema,
} from "./catalog-admin.ts";

const { db } = await testDatabase();
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl() });
const admin: Viewer = {
  userId: "00000000-0000-4000-8000-000000000001",
  email: "ops@example.com",
  name: "Ops",
  role: "admin",
  accountId: null,
};

const scale: PackageInput = {
  name: "Scale",
  description: "For growing teams",
  monthlyPriceCents: 19900,
  currency: "usd",
  callMinutesLimit: 6000,
  agentsAllowed: 12,
  analyticsAccess: true,
  apiAccess: false,
  overagePriceCentsPerMinute: 3,
  recommended: false,
};

async function fieldOf(promise: Promise<unknown>): Promise<{ code: string; field: string | undefined }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, field: error.field };
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("package catalog administration", () => {
  it("syncs the seeded catalog to Stripe once: a product and a monthly price per package", async () => {
    const first = await syncCatalogToStripe(ports);
    expect(first).toEqual({ synced: 3, failed: [], errors: [] });
    expect(await syncCatalogToStripe(ports)).toEqual({ synced: 0, failed: [], errors: [] });
    const pro = await db.subscriptionPlan.findUniqueOrThrow({
      where: { name: "Pro" },
      include: { prices: true, currencyPrices: { orderBy: { currency: "asc" } } },
    });
    expect(pro.stripeProductId).toMatch(/^prod_/);
    // A Stripe price per currency the package is priced in, each current.
    expect(pro.prices.map((p) => [p.currency, p.amountCents, p.current]).sort()).toEqual([
      ["eur", 9500, true],
      ["gbp", 8500, true],
      ["usd", 9900, true],
    ]);
    const price = await ports.stripe.prices.retrieve(pro.stripePriceId ?? "");
    expect(price.unit_amount).toBe(9900);
    expect(price.recurring?.interval).toBe("month");
    expect(price.product).toBe(pro.stripeProductId);
    for (const row of pro.currencyPrices) {
      const stripePrice = await ports.stripe.prices.retrieve(row.stripePriceId ?? "");
      expect([stripePrice.currency, stripePrice.unit_amount, stripePrice.product]).toEqual([
        row.currency,
        row.amountCents,
        pro.stripeProductId,
      ]);
    }
    expect(pro.currencyPrices.find((r) => r.currency === "usd")?.stripePriceId).toBe(pro.stripePriceId);
  });

  it("creates a package, syncs it, audits it, and customers can choose it", async () => {
    const result = await createPackage(ports, admin, scale);
    expect(result.syncError).toBeNull();
    expect(result.package.name).toBe("Scale");
    const row = await db.subscriptionPlan.findUniqueOrThrow({ where: { id: result.package.id } });
    expect(row.stripePriceId).toMatch(/^price_/);
    expect(row.sortOrder).toBe(4);
    const audit = await db.auditLog.findMany({ where: { entityId: row.id } });
    expect(audit.map((a) => [a.action, a.actorEmail])).toEqual([["package.create", "ops@example.com"]]);
    expect((audit[0]?.after as { name: string } | undefined)?.name).toBe("Scale");

    const account = await db.account.create({ data: { name: "Shopper" } });
    const selection = await packageSelection(ports, account.id);
    expect(selection.packages.map((p) => p.name)).toEqual(["Starter", "Pro", "Enterprise", "Scale"]);
    const minutes = selection.comparison.find((r) => r.feature === "Monthly Call Minutes");
    expect(minutes?.cells.find((c) => c.planName === "Scale")?.value).toBe("6,000 minutes");
    expect(selection.needsPackageSelection).toBe(true);
  });

  it("refuses a duplicate name (any case) and invalid values, naming the field and writing nothing", async () => {
    const before = await db.subscriptionPlan.count();
    expect(await fieldOf(createPackage(ports, admin, { ...scale, name: "pro" }))).toEqual({
      code: "CONFLICT",
      field: "name",
    });
    expect(await fieldOf(createPackage(ports, admin, { ...scale, name: "Nova", agentsAllowed: 0 }))).toEqual({
      code: "BAD_REQUEST",
      field: "agentsAllowed",
    });
    expect(await db.subscriptionPlan.count()).toBe(before);
  });

  it("says what is wrong with a number out of range, in the admin form's words", () => {
    const problems = (input: Record<string, unknown>) =>
      ZPackageInputSchema.safeParse({ ...scale, ...input }).error?.issues.map((i) => [i.path[0], i.message]);
    expect(
      problems({
        monthlyPriceCents: -100,
        callMinutesLimit: -5,
        agentsAllowed: 0,
        overagePriceCentsPerMinute: -2,
      }),
    ).toEqual([
      ["monthlyPriceCents", "The monthly price must be 0 or more"],
      ["callMinutesLimit", "Included minutes must be 0 or more"],
      ["agentsAllowed", "Agents allowed must be at least 1"],
      ["overagePriceCentsPerMinute", "The overage price must be 0 or more"],
    ]);
    expect(
      problems({
        monthlyPriceCents: 100_000_01,
        callMinutesLimit: 100_000_001,
        agentsAllowed: 100_001,
        overagePriceCentsPerMinute: 100_001,
      }),
    ).toEqual([
      ["monthlyPriceCents", "The monthly price can be at most 100,000.00"],
      ["callMinutesLimit", "Included minutes can be at most 100,000,000"],
      ["agentsAllowed", "Agents allowed can be at most 100,000"],
      ["overagePriceCentsPerMinute", "The overage price can be at most 100,000 cents a minute"],
    ]);
    expect(problems({ monthlyPriceCents: 99.5, callMinutesLimit: 1.5 })).toEqual([
      ["monthlyPriceCents", "The monthly price must be whole cents"],
      ["callMinutesLimit", "Included minutes must be a whole number"],
    ]);
  });

  it("sets a package's trial, shows it in the catalog, keeps it on an update that leaves it out, and refuses bad values", async () => {
    const problems = (input: Record<string, unknown>) =>
      ZPackageInputSchema.safeParse({ ...scale, ...input }).error?.issues.map((i) => [i.path[0], i.message]);
    // Out of range, fractions and wrong JSON types are refused naming the field, never coerced.
    for (const trialDays of [0, 91, 2.5, "14", true]) {
      expect(problems({ trialDays })?.[0]?.[0]).toBe("trialDays");
    }
    expect(problems({ trialDays: 14, trialRequiresCard: "no" })?.[0]?.[0]).toBe("trialRequiresCard");
    expect(problems({ trialDays: 14, trialRequiresCard: null })?.[0]?.[0]).toBe("trialRequiresCard");
    expect(problems({ trialDays: 90, trialRequiresCard: false })).toBeUndefined();
    expect(await fieldOf(createPackage(ports, admin, { ...scale, name: "Trial bad", trialDays: 0 }))).toEqual(
      {
        code: "BAD_REQUEST",
        field: "trialDays",
      },
    );

    const created = await createPackage(ports, admin, {
      ...scale,
      name: "Trial Scale",
      trialDays: 14,
      trialRequiresCard: false,
    });
    expect(created.package.trial).toEqual({ days: 14, requiresCard: false });
    const listed = (await listPackagesForAdmin(ports)).find((p) => p.id === created.package.id);
    expect(listed?.trial).toEqual({ days: 14, requiresCard: false });
    // An update without the trial fields keeps the trial; null removes it.
    const kept = await updatePackage(ports, admin, created.package.id, { ...scale, name: "Trial Scale" });
    expect(kept.package.trial).toEqual({ days: 14, requiresCard: false });
    const removed = await updatePackage(ports, admin, created.package.id, {
      ...scale,
      name: "Trial Scale",
      trialDays: null,
    });
    expect(removed.package.trial).toBeNull();
    await setPackageActive(ports, admin, created.package.id, false);
  });

  it("keeps at most one recommended package", async () => {
    const scaleRow = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Scale" } });
    await updatePackage(ports, admin, scaleRow.id, { ...scale, recommended: true });
    const recommended = await db.subscriptionPlan.findMany({ where: { recommended: true } });
    expect(recommended.map((p) => p.name)).toEqual(["Scale"]);
    const proAudit = await db.auditLog.findFirst({
      where: { action: "package.update", before: { path: ["name"], equals: "Pro" } },
    });
    expect((proAudit?.after as { recommended: boolean } | undefined)?.recommended).toBe(false);
  });

  it("creates a new Stripe price on a price change; subscribers on the old price are counted on it", async () => {
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const oldPrice = pro.stripePriceId ?? "";
    const account = await db.account.create({ data: { name: "Loyal" } });
    await db.subscription.create({
      data: {
        accountId: account.id,
        stripeSubscriptionId: "sub_loyal",
        planId: pro.id,
        stripePriceId: oldPrice,
        status: "active",
        currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
        currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
      },
    });
    const result = await updatePackage(ports, admin, pro.id, {
      name: "Pro",
      description: pro.description,
      monthlyPriceCents: 10900,
      currency: "usd",
      callMinutesLimit: 3000,
      agentsAllowed: 5,
      analyticsAccess: true,
      apiAccess: false,
      overagePriceCentsPerMinute: 3,
      recommended: false,
    });
    expect(result.syncError).toBeNull();
    const after = await db.subscriptionPlan.findUniqueOrThrow({ where: { id: pro.id } });
    expect(after.stripePriceId).not.toBe(oldPrice);
    expect((await ports.stripe.prices.retrieve(after.stripePriceId ?? "")).unit_amount).toBe(10900);
    const listed = (await listPackagesForAdmin(ports)).find((p) => p.id === pro.id);
    expect(
      listed?.prices
        .filter((p) => p.currency === "usd")
        .map((p) => [p.amountCents, p.current, p.subscribers]),
    ).toEqual([
      [10900, true, 0],
      [9900, false, 1],
    ]);
    // Its prices in the other currencies are left as they were.
    expect(listed?.currencyPrices.map((p) => p.monthlyPrice.amount)).toEqual([10900, 9500, 8500]);
    expect(listed?.subscribers).toBe(1);
    expect(listed?.synced).toBe(true);
  });

  it("archives a package (no longer offered, badge removed, Stripe product inactive) and unarchives it", async () => {
    const scaleRow = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Scale" } });
    await setPackageActive(ports, admin, scaleRow.id, false);
    const archived = await db.subscriptionPlan.findUniqueOrThrow({ where: { id: scaleRow.id } });
    expect(archived.active).toBe(false);
    expect(archived.recommended).toBe(false);
    expect((await ports.stripe.products.retrieve(archived.stripeProductId ?? "")).active).toBe(false);
    const account = await db.account.create({ data: { name: "Later" } });
    expect((await packageSelection(ports, account.id)).packages.map((p) => p.name)).not.toContain("Scale");

    await setPackageActive(ports, admin, scaleRow.id, true);
    expect((await ports.stripe.products.retrieve(archived.stripeProductId ?? "")).active).toBe(true);
    const actions = await db.auditLog.findMany({
      where: { entityId: scaleRow.id },
      orderBy: { createdAt: "asc" },
    });
    expect(actions.map((a) => a.action)).toContain("package.archive");
    expect(actions.map((a) => a.action)).toContain("package.unarchive");
  });

  it("reorders the catalog and refuses an order that misses a package", async () => {
    const rows = await db.subscriptionPlan.findMany({ orderBy: { sortOrder: "asc" } });
    const reversed = rows.map((r) => r.id).reverse();
    const result = await reorderPackages(ports, admin, reversed);
    expect(result.map((p) => p.id)).toEqual(reversed);
    expect(await fieldOf(reorderPackages(ports, admin, reversed.slice(1)))).toEqual({
      code: "BAD_REQUEST",
      field: "ids",
    });
  });

  it("saves the change and reports the failed sync when Stripe is unreachable; a later sync catches up", async () => {
    const offline = testPorts(db, { stripeApiBase: "http://127.0.0.1:9" });
    const result = await createPackage(offline, admin, { ...scale, name: "Offline" });
    expect(result.syncError).toBeTruthy();
    const row = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Offline" } });
    expect(row.stripePriceId).toBeNull();
    expect(await syncCatalogToStripe(ports)).toEqual({ synced: 1, failed: [], errors: [] });
    expect(
      (await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Offline" } })).stripePriceId,
    ).toMatch(/^price_/);
  });

  it("prices a package in other currencies: each synced to its own Stripe price, changed and removed per currency", async () => {
    const created = await createPackage(ports, admin, {
      ...scale,
      name: "Global",
      prices: {
        eur: { amountCents: 18900, overagePriceCentsPerMinute: 3 },
        gbp: { amountCents: 16900, overagePriceCentsPerMinute: 2 },
      },
    });
    expect(created.syncError).toBeNull();
    expect(created.package.currencyPrices).toEqual([
      {
        monthlyPrice: { amount: 19900, currency: "usd" },
        overagePricePerMinute: { amount: 3, currency: "usd" },
      },
      {
        monthlyPrice: { amount: 18900, currency: "eur" },
        overagePricePerMinute: { amount: 3, currency: "eur" },
      },
      {
        monthlyPrice: { amount: 16900, currency: "gbp" },
        overagePricePerMinute: { amount: 2, currency: "gbp" },
      },
    ]);
    const stripePriceOf = async (currency: string) => {
      const row = await db.subscriptionPlanPrice.findUniqueOrThrow({
        where: { planId_currency: { planId: created.package.id, currency } },
      });
      return row.stripePriceId ?? "";
    };
    const eurPrice = await ports.stripe.prices.retrieve(await stripePriceOf("eur"));
    expect([eurPrice.currency, eurPrice.unit_amount]).toEqual(["eur", 18900]);
    const usdBefore = await stripePriceOf("usd");

    // Leaving the prices out keeps them; a changed EUR amount gets a new EUR Stripe price, USD keeps its own.
    await updatePackage(ports, admin, created.package.id, { ...scale, name: "Global" });
    expect(await db.subscriptionPlanPrice.count({ where: { planId: created.package.id } })).toBe(3);
    const changed = await updatePackage(ports, admin, created.package.id, {
      ...scale,
      name: "Global",
      prices: { eur: { amountCents: 17900, overagePriceCentsPerMinute: 3 } },
    });
    expect(changed.syncError).toBeNull();
    expect(changed.package.currencyPrices.map((p) => p.monthlyPrice)).toEqual([
      { amount: 19900, currency: "usd" },
      { amount: 17900, currency: "eur" },
    ]);
    expect(await stripePriceOf("usd")).toBe(usdBefore);
    expect((await ports.stripe.prices.retrieve(await stripePriceOf("eur"))).unit_amount).toBe(17900);
    const listed = (await listPackagesForAdmin(ports)).find((p) => p.id === created.package.id);
    expect(listed?.synced).toBe(true);
    expect(listed?.prices.filter((p) => p.currency === "eur").map((p) => [p.amountCents, p.current])).toEqual(
      [
        [17900, true],
        [18900, false],
      ],
    );
    // The audit log records the prices per currency before and after.
    const audits = await db.auditLog.findMany({
      where: { entityId: created.package.id, action: "package.update" },
    });
    const pricesOf = (entry: unknown) =>
      (entry as { currencyPrices: { currency: string; amountCents: number }[] }).currencyPrices.map((p) => [
        p.currency,
        p.amountCents,
      ]);
    expect(audits.map((a) => [pricesOf(a.before), pricesOf(a.after)])).toContainEqual([
      [
        ["eur", 18900],
        ["gbp", 16900],
        ["usd", 19900],
      ],
      [
        ["eur", 17900],
        ["usd", 19900],
      ],
    ]);
    await setPackageActive(ports, admin, created.package.id, false);
  });

  it("refuses a bad price in another currency naming the field (prices.eur.amountCents), writing nothing", async () => {
    const paths = (input: Record<string, unknown>) =>
      ZPackageInputSchema.safeParse({ ...scale, ...input }).error?.issues.map((i) => i.path.join("."));
    expect(paths({ prices: { eur: { amountCents: -1, overagePriceCentsPerMinute: 3 } } })).toEqual([
      "prices.eur.amountCents",
    ]);
    expect(paths({ prices: { gbp: { amountCents: "2500", overagePriceCentsPerMinute: 3 } } })).toEqual([
      "prices.gbp.amountCents",
    ]);
    expect(paths({ prices: { gbp: { amountCents: 2500 } } })).toEqual([
      "prices.gbp.overagePriceCentsPerMinute",
    ]);
    expect(paths({ prices: { chf: { amountCents: 2500, overagePriceCentsPerMinute: 3 } } })).toEqual([
      "prices",
    ]);
    const before = await db.subscriptionPlan.count();
    expect(
      await fieldOf(
        createPackage(ports, admin, {
          ...scale,
          name: "Capped abroad",
          prices: { eur: { amountCents: 18900, overagePriceCentsPerMinute: null } },
        }),
      ),
    ).toEqual({ code: "BAD_REQUEST", field: "prices.eur.overagePriceCentsPerMinute" });
    expect(
      await fieldOf(
        createPackage(ports, admin, {
          ...scale,
          name: "Twice",
          prices: { usd: { amountCents: 18900, overagePriceCentsPerMinute: 3 } },
        }),
      ),
    ).toEqual({ code: "BAD_REQUEST", field: "prices.usd" });
    expect(await db.subscriptionPlan.count()).toBe(before);
  });
});
