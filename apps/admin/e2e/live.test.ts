// Live updates of the admin app in Chromium against the real API: the webhook log fills by itself while a
// customer subscribes (the Stripe emulator's signed webhooks, recorded and processed by the worker), and
// the usage page lists an account by itself once the calling platform reports it past 80%. Neither page
// polls while live, so only the stream can have refreshed them.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, reportCalls, signIn, subscribedCustomer } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
await stack.createUser({ ...ADMIN, role: "admin" });

async function liveModeOf(page: Page): Promise<string | undefined> {
  return await page.evaluate(() => document.documentElement.dataset.liveMode);
}

describe("admin live updates", () => {
  let accountId: string;

  it("the webhook log shows events as Stripe sends them", async () => {
    const page = await signIn(stack, browser, "/webhooks", { viewport: { width: 1280, height: 800 } });
    await page.getByTestId("live-status").getByText("Live").waitFor();
    const rows = page.locator("tbody > tr[data-event]");
    const subscriptionRows = page.locator('tbody > tr[data-event]:has-text("customer.subscription.created")');
    await page.getByRole("heading", { name: "Webhook events" }).waitFor();
    expect(await subscriptionRows.count()).toBe(0);
    const before = await rows.count();
    await screenshot(page, "admin-live-webhooks-before");

    const customer = await subscribedCustomer(stack, {
      name: "Live Dental",
      email: "l@live.test",
      plan: "Pro",
    });
    accountId = customer.accountId;
    await expect.poll(() => subscriptionRows.count(), { timeout: 20_000 }).toBe(1);
    expect(await rows.count()).toBeGreaterThan(before);
    // And their processing, as the worker finishes each one (the rows' status changes by itself).
    await expect
      .poll(async () => (await page.locator("tbody").textContent())?.includes("Waiting"), { timeout: 20_000 })
      .toBe(false);
    expect(await liveModeOf(page)).toBe("live");
    await screenshot(page, "admin-live-webhooks-after");
    await page.close();
  });

  it("the usage page lists an account as its calls pass 80%", async () => {
    const page = await signIn(stack, browser, "/usage", { viewport: { width: 1280, height: 800 } });
    await page.getByTestId("live-status").getByText("Live").waitFor();
    const rows = page.locator("tbody > tr[data-account]");
    await page.getByRole("heading", { name: "Usage and alerts" }).waitFor();
    expect(await rows.count()).toBe(0);

    await reportCalls(stack, accountId, [1000, 1000, 500]); // 2,500 of 3,000: 83.3%
    await rows.first().waitFor({ timeout: 10_000 });
    expect(await rows.first().textContent()).toContain("83.3%");
    // The worker mails the 80% alert: the outbox shows it by itself.
    await page.locator("li", { hasText: "to l@live.test" }).first().waitFor({ timeout: 20_000 });
    expect(await liveModeOf(page)).toBe("live");
    await screenshot(page, "admin-live-usage-after");
  });
});
