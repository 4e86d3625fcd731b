// The subscription lifecycle in the browser: the customer app, the real API and the Stripe emulator's
// hosted checkout page, all for real.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { enterCheckoutAddress } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
let page: Page;

beforeAll(async () => {
  page = await browser.newPage();
  await page.goto(`${stack.baseUrl}/sign-up`);
  await page.getByLabel("Name").fill("Paula Payer");
  await page.getByLabel("Email").fill("paula@example.com");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Choose your package" }).waitFor();
});

describe("subscription lifecycle in the customer app", () => {
  it("subscribes through the hosted checkout page and comes back subscribed", async () => {
    expect(await page.getByText("Stripe-compatible emulator").count()).toBe(1);
    await page.getByRole("button", { name: "Choose Pro" }).click();
    await page.waitForURL(/\/checkout\/cs_/);
    expect(await page.getByText("not Stripe").count()).toBeGreaterThan(0);
    await screenshot(page, "web-checkout-page");
    await page.locator("#card-visa").check();
    await enterCheckoutAddress(page);
    await page.locator("#submit").click();
    await page.waitForURL(/\/billing\/return\?session_id=cs_/);
    await page.getByRole("heading", { name: "You're subscribed to Pro" }).waitFor();
    await page.getByRole("link", { name: "Billing and invoices" }).click();
    await page.waitForURL(`${stack.baseUrl}/billing`);
    const card = page.getByTestId("subscription-card");
    await card.getByText("Pro package").waitFor();
    expect(await card.textContent()).toContain("Active");
    // The invoice's total (its one line, Pro's month, says $99.00 too).
    await page
      .getByRole("table", { name: "Invoices" })
      .getByRole("cell", { name: "$99.00", exact: true })
      .waitFor();
    await screenshot(page, "web-billing-subscribed");
  });

  it("upgrades with the proration preview, and is charged exactly what it showed", async () => {
    await page.getByRole("link", { name: "Change package" }).click();
    await page.getByRole("button", { name: "Upgrade to Enterprise" }).click();
    const total = page.getByTestId("preview-total");
    await total.waitFor();
    const shown = (await total.textContent()) ?? "";
    expect(shown).toMatch(/^\$\d/);
    expect(await page.getByTestId("preview-credit").textContent()).toMatch(/^-\$/);
    await screenshot(page, "web-upgrade-preview");
    await page.getByRole("button", { name: /and upgrade/ }).click();
    await page.waitForURL(`${stack.baseUrl}/billing`);
    await page.getByTestId("subscription-card").getByText("Enterprise package").waitFor();
    const rows = page.getByRole("table", { name: "Invoices" }).locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain(shown);
  });

  it("schedules a downgrade for the next cycle, and can cancel the scheduled change", async () => {
    await page.getByRole("link", { name: "Change package" }).click();
    await page.getByRole("button", { name: "Downgrade to Starter" }).click();
    await page.getByRole("button", { name: /^Change to Starter on / }).click();
    await page.waitForURL(`${stack.baseUrl}/billing`);
    const scheduled = page.getByTestId("scheduled-change");
    await scheduled.waitFor();
    expect(await scheduled.textContent()).toMatch(/^Changes to Starter on [A-Z][a-z]+ \d{1,2}, \d{4}$/);
    await screenshot(page, "web-downgrade-scheduled");
    await page.getByRole("button", { name: "Keep Enterprise" }).click();
    await scheduled.waitFor({ state: "detached" });
  });

  it("cancels at the end of the period and undoes it", async () => {
    await page.getByRole("button", { name: "Cancel subscription" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel subscription" }).click();
    const cancellation = page.getByTestId("cancellation");
    await cancellation.waitFor();
    expect(await cancellation.textContent()).toMatch(/you keep access until/);
    await screenshot(page, "web-cancelled");
    await page.getByRole("button", { name: "Undo cancellation" }).click();
    await cancellation.waitFor({ state: "detached" });
    const row = await stack.database.db.subscription.findFirstOrThrow({ where: { status: "active" } });
    expect(row.cancelAtPeriodEnd).toBe(false);
  });

  it("shows every change arrived through Stripe's webhooks too", async () => {
    await expect
      .poll(async () => await stack.database.db.stripeEvent.count({ where: { status: "processed" } }), {
        timeout: 30_000,
      })
      .toBeGreaterThan(5);
    expect(await stack.database.db.stripeEvent.count({ where: { status: "failed" } })).toBe(0);
  });
});
