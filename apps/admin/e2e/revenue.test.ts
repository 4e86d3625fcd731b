// Revenue for a known data set, in Chromium against the real API. This month, two customers subscribe
// through the real API (Starter and Pro) and the Starter one upgrades to Pro; Stripe's webhooks (delivered
// by the emulator) record the upgrade. History is inserted: an Enterprise customer who joined two months
// ago and churned last month, and a Pro customer from three months ago who downgraded to Starter last month.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  horizontalOverflow,
  packageId,
  signIn,
  subscribedCustomer,
  upgrade,
  waitFor,
} from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });

const now = new Date();
const monthStart = (back: number, day = 1) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, day, 12));
const monthKey = (back: number) => monthStart(back).toISOString().slice(0, 7);

const upgrader = await subscribedCustomer(stack, {
  name: "Upgrader Co",
  email: "up@upgrader.test",
  plan: "Starter",
});
await subscribedCustomer(stack, { name: "Steady Co", email: "pat@steady.test", plan: "Pro" });
await upgrade(stack, upgrader.cookie, "Pro");
const upgraded = await db.subscription.findFirstOrThrow({ where: { accountId: upgrader.accountId } });
await waitFor(stack, "the upgrade's webhook", async () => {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM stripe_event
    WHERE type = 'customer.subscription.updated'
      AND payload #>> '{data,object,id}' = ${upgraded.stripeSubscriptionId}
      AND payload #>> '{data,previous_attributes,items,data,0,price,id}' IS DISTINCT FROM
        payload #>> '{data,object,items,data,0,price,id}'
      AND payload #> '{data,previous_attributes,items}' IS NOT NULL`;
  return rows.length > 0;
});

const plans = Object.fromEntries(
  await Promise.all(
    ["Starter", "Pro", "Enterprise"].map(async (name) => {
      await packageId(stack, name);
      return [name, await db.subscriptionPlan.findUniqueOrThrow({ where: { name } })] as const;
    }),
  ),
);
const price = (name: string) => plans[name]?.stripePriceId ?? "";

async function history(name: string, plan: string, data: Record<string, unknown>) {
  const account = await db.account.create({
    data: { name, stripeCustomerId: `cus_hist_${name.replace(/\W/g, "")}` },
  });
  return await db.subscription.create({
    data: {
      accountId: account.id,
      stripeSubscriptionId: `sub_hist_${name.replace(/\W/g, "")}`,
      planId: plans[plan]?.id ?? "",
      stripePriceId: price(plan),
      status: "active",
      currentPeriodStart: monthStart(0, 1),
      currentPeriodEnd: monthStart(-1, 1),
      ...data,
    },
  });
}

await history("Former Co", "Enterprise", {
  status: "canceled",
  createdAt: monthStart(2, 10),
  canceledAt: monthStart(1, 1),
  endedAt: monthStart(1, 5),
  currentPeriodStart: monthStart(2, 10),
  currentPeriodEnd: monthStart(1, 10),
});
const downsizer = await history("Downsizer Co", "Starter", { createdAt: monthStart(3, 12) });
const item = (name: string) => ({
  data: [
    { price: { id: price(name), unit_amount: plans[name]?.monthlyPriceCents, currency: "usd" }, quantity: 1 },
  ],
});
await db.stripeEvent.create({
  data: {
    id: "evt_hist_downgrade",
    type: "customer.subscription.updated",
    status: "processed",
    attempts: 1,
    stripeCreatedAt: monthStart(1, 12),
    receivedAt: monthStart(1, 12),
    processedAt: monthStart(1, 12),
    payload: {
      id: "evt_hist_downgrade",
      object: "event",
      type: "customer.subscription.updated",
      data: {
        object: { id: downsizer.stripeSubscriptionId, object: "subscription", items: item("Starter") },
        previous_attributes: { items: item("Pro") },
      },
    },
  },
});

async function monthCells(page: Page, back: number) {
  return await page
    .locator(`tbody > tr[data-month="${monthKey(back)}"]`)
    .locator("th, td")
    .allTextContents();
}

describe("admin revenue", () => {
  it("shows MRR, ARR, subscribers and the average from the subscriptions that grant access", async () => {
    const page = await signIn(stack, browser, "/revenue");
    await page.getByRole("heading", { name: "Revenue", exact: true }).waitFor();
    const kpi = (label: string) => page.locator(`[data-kpi="${label}"]`).textContent();
    await page.locator('[data-kpi="MRR"]').waitFor();
    // Upgrader and Steady on Pro ($99 each), Downsizer on Starter ($29); Former Co churned.
    expect(await kpi("MRR")).toBe("$227.00");
    expect(await kpi("ARR")).toBe("$2,724.00");
    expect(await kpi("Active subscribers")).toBe("3");
    expect(await kpi("Average per subscriber")).toBe("$75.67");

    const packages = page.getByRole("region", { name: "Active subscribers per package" });
    const lines = await packages.locator("li").allTextContents();
    expect(lines).toEqual([
      "Starter1 subscriber$29.00 MRR",
      "Pro2 subscribers$198.00 MRR",
      "Enterprise0 subscribers",
    ]);
    await screenshot(page, "admin-revenue");
  });

  it("counts new, upgraded, downgraded and churned subscriptions and their MRR per month", async () => {
    const page = await signIn(stack, browser, "/revenue");
    await page.locator(`tbody > tr[data-month="${monthKey(0)}"]`).waitFor();
    const header = [
      "New",
      "Upgraded",
      "Downgraded",
      "Churned",
      "Trials started",
      "Trial conversion",
      "New MRR",
      "Expansion",
      "Contraction",
      "Churned MRR",
      "Net",
      "Refunded",
      "Credited",
    ];
    const table = page.getByRole("region", { name: "Month by month" });
    expect((await table.locator("thead th").allTextContents()).slice(1)).toEqual(header);
    // This month: Starter ($29) and Pro ($99) start, the Starter one upgrades to Pro (+$70).
    expect((await monthCells(page, 0)).slice(1, 12)).toEqual([
      "2",
      "1",
      "0",
      "0",
      "0",
      "—",
      "$128.00",
      "$70.00",
      "$0.00",
      "$0.00",
      "$198.00",
    ]);
    // Last month: Downsizer goes from Pro to Starter (−$70), Former Co's Enterprise ($299) ends.
    expect((await monthCells(page, 1)).slice(1, 12)).toEqual([
      "0",
      "0",
      "1",
      "1",
      "0",
      "—",
      "$0.00",
      "$0.00",
      "-$70.00",
      "-$299.00",
      "-$369.00",
    ]);
    expect((await monthCells(page, 2)).slice(1, 12)).toEqual([
      "1",
      "0",
      "0",
      "0",
      "0",
      "—",
      "$299.00",
      "$0.00",
      "$0.00",
      "$0.00",
      "$299.00",
    ]);
    // Nothing was refunded or credited (MRR movements leave refunds out; they have columns of their own).
    expect((await monthCells(page, 0)).slice(12)).toEqual(["$0.00", "$0.00"]);
    // Downsizer started on Pro: its first price, from before the change.
    expect((await monthCells(page, 3)).slice(1, 12)).toEqual([
      "1",
      "0",
      "0",
      "0",
      "0",
      "—",
      "$99.00",
      "$0.00",
      "$0.00",
      "$0.00",
      "$99.00",
    ]);
    expect(await page.locator("tbody > tr[data-month]").count()).toBe(12);

    const chart = page.getByRole("img", { name: /MRR movements in USD over 12 months: net \$227\.00/ });
    await chart.waitFor();
    const movements = page.getByRole("region", { name: "MRR movements" });
    await movements.getByText("Show the numbers").click();
    await movements.getByRole("table", { name: "MRR movements per month (USD), as numbers" }).waitFor();
    await page.getByText("How these numbers are computed").click();
    await page.getByText("Changes whose webhook never arrived are missing.").waitFor();

    await page.getByLabel("Period").selectOption("6");
    await page.locator("tbody > tr[data-month]").nth(5).waitFor();
    await page.waitForFunction(() => document.querySelectorAll("tbody > tr[data-month]").length === 6);
    expect(new URL(page.url()).searchParams.get("months")).toBe("6");
    await screenshot(page, "admin-revenue-details");
  });

  it("fits a phone", async () => {
    const page = await signIn(stack, browser, "/revenue", { viewport: { width: 390, height: 844 } });
    await page.locator('[data-kpi="MRR"]').waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, "admin-revenue-phone");
  });
});
