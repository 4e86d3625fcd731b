// Minute packs in the admin app: an admin defines a pack (a bad price is refused with the field named),
// sees it synced to Stripe as a one-time price, and reads a customer's pack ledger on the customer page;
// Chromium against the real API, a fresh database and the Stripe emulator.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { ADMIN, signIn, subscribedCustomer } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });

describe("minute packs in the admin app", () => {
  it("defines a pack synced to Stripe as a one-time price and shows a customer's pack ledger", async () => {
    const page = await signIn(stack, browser, "/minute-packs");
    await page.getByRole("heading", { name: "Minute packs", exact: true }).waitFor();
    await page.getByLabel("Name").fill("1,000 minutes");
    await page.getByLabel("Minutes", { exact: true }).fill("1000");
    await page.getByLabel("Price").fill("twenty-five");
    await page.getByRole("button", { name: "Create pack" }).click();
    await page.getByText("The price in cents must be a number").first().waitFor();
    await screenshot(page, "admin-minute-packs-error");
    await page.getByLabel("Price").fill("25");
    await page.getByRole("button", { name: "Create pack" }).click();
    await page.getByText("1,000 minutes is created: 1,000 minutes for $25.00.").waitFor();
    await page.getByRole("table", { name: "Minute packs" }).getByText("Offered").waitFor();
    await screenshot(page, "admin-minute-packs-created");
    const pack = await db.minutePack.findFirstOrThrow({ where: { name: "1,000 minutes" } });
    const response = await fetch(`${stack.stripeApiBase}/v1/prices/${pack.stripePriceId}`, {
      headers: { authorization: "Bearer sk_test_minutely_dev" },
    });
    const price = (await response.json()) as { type: string; unit_amount: number; currency: string };
    expect(price).toMatchObject({ type: "one_time", unit_amount: 2500, currency: "usd" });
    const audit = await db.auditLog.findMany({ where: { entityType: "minute_pack", entityId: pack.id } });
    expect(audit.map((a) => a.action)).toEqual(["minute_pack.create"]);

    // A customer who bought it: the customer page shows the pack's ledger.
    const customer = await subscribedCustomer(stack, {
      name: "Pack Buyer",
      email: "buyer@example.com",
      plan: "Starter",
    });
    await db.packGrant.create({
      data: {
        accountId: customer.accountId,
        packId: pack.id,
        sourceKey: "test:admin-e2e",
        minutes: 1000,
        remaining: 600,
        priceCents: 2500,
        currency: "usd",
        grantedAt: new Date(Date.now() - 86_400_000),
        expiresAt: new Date(Date.now() + 300 * 86_400_000),
      },
    });
    await db.packDraw.create({
      data: {
        grantId: (await db.packGrant.findFirstOrThrow({ where: { sourceKey: "test:admin-e2e" } })).id,
        accountId: customer.accountId,
        periodStart: new Date(Date.now() - 86_400_000),
        minutes: 400,
      },
    });
    await page.goto(`${stack.baseUrl}/admin/customers/${customer.accountId}`);
    await page.getByTestId("customer-pack-ledger").waitFor();
    expect(await page.getByTestId("customer-pack-ledger").textContent()).toMatch(
      /600 minutes left · bought 1,000 · used 400 · expired 0/,
    );
    await page.getByRole("heading", { name: "Minute packs" }).scrollIntoViewIfNeeded();
    await screenshot(page, "admin-minute-packs-customer");
  });
});
