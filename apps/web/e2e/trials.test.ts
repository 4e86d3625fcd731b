// Free trials in the browser: the package table offers Starter's 14-day trial without a card, starting it
// goes straight to the dashboard (trialing, nothing charged), and when the Stripe test clock reaches 3 days
// before the end the dashboard asks for a card ("Add a card") and the owner is emailed. The built SPA, the
// real API and the Stripe emulator (its webhooks delivered to the API), for real.
import { createStripeClient } from "@minutely/api";
import { screenshot, testBrowser, testStack, userWithAccount } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { PASSWORD } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const stripe = createStripeClient({ secretKey: "sk_test_trials_e2e", apiBase: stack.stripeApiBase });
const db = stack.database.db;
let page: Page;

beforeAll(async () => {
  await db.subscriptionPlan.update({
    where: { name: "Starter" },
    data: { trialDays: 14, trialRequiresCard: false },
  });
  await db.subscriptionPlan.update({
    where: { name: "Pro" },
    data: { trialDays: 7, trialRequiresCard: true },
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

describe("free trials", () => {
  it("starts a trial from the package table, shows it on the dashboard and asks for a card near its end", async () => {
    await page.goto(`${stack.baseUrl}/sign-up`);
    await page.getByLabel("Name").fill("Tia Trial");
    await page.getByLabel("Email").fill("tia@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();
    const starter = page.getByTestId("package-Starter");
    expect(await starter.textContent()).toContain("14-day free trial");
    expect(await starter.getByTestId("trial-terms").textContent()).toContain("No card required");
    expect(await page.getByTestId("package-Pro").getByTestId("trial-terms").textContent()).toContain(
      "Card required",
    );
    expect(await page.getByTestId("comparison-trial").textContent()).toBe(
      "Free trial14 days, no card7 days—",
    );
    await screenshot(page, "web-trial-packages");

    await page.getByRole("button", { name: "Start 14-day free trial" }).click();
    const trial = page.getByTestId("dashboard-trial");
    await trial.waitFor({ timeout: 10_000 }).catch(async (error: unknown) => {
      await page.screenshot({ path: "/tmp/trial-fail.png", fullPage: true });
      throw error;
    });
    expect(await trial.textContent()).toMatch(/^Free trial until .+: add a card to continue after it$/);
    expect(await page.getByTestId("dashboard-subscription").textContent()).toContain("Trial");
    expect(await page.getByRole("button", { name: "Add a card" }).count()).toBe(0);
    await screenshot(page, "web-trial-dashboard");
    await page.goto(`${stack.baseUrl}/billing`);
    const billingTrial = page.getByTestId("subscription-trial");
    await billingTrial.waitFor();
    expect(await billingTrial.textContent()).toMatch(/^Free trial until .+: nothing is charged/);
    await screenshot(page, "web-trial-billing");
    await page.goto(`${stack.baseUrl}/`);
    await page.getByTestId("dashboard-trial").waitFor();

    // The Stripe test clock reaches 3 days before the end: trial_will_end, the banner and the email.
    const accountId = (await userWithAccount(db, { email: "tia@example.com" })).accountId ?? "";
    const row = await db.subscription.findFirstOrThrow({ where: { accountId } });
    expect(row.status).toBe("trialing");
    const warnAt = (row.trialEnd?.getTime() ?? 0) - 3 * 86_400_000 + 3_600_000;
    await stripe.testHelpers.testClocks.advance(row.stripeTestClockId ?? "", {
      frozen_time: Math.floor(warnAt / 1000),
    });
    await expect
      .poll(async () => (await db.subscription.findUniqueOrThrow({ where: { id: row.id } })).testClockTime, {
        timeout: 30_000,
      })
      .toSatisfy((t: Date | null) => t !== null && t.getTime() >= warnAt - 1000);
    await expect
      .poll(
        async () =>
          (await db.mailMessage.findMany({ where: { to: "tia@example.com" } })).map((m) => m.subject),
        {
          timeout: 30_000,
        },
      )
      .toContainEqual(expect.stringMatching(/^Your Minutely free trial ends on /));
    await page.reload();
    await page.getByRole("button", { name: "Add a card" }).waitFor();
    expect(await page.getByRole("status").filter({ hasText: "Your free trial ends on" }).count()).toBe(1);
    await screenshot(page, "web-trial-ending-banner");
  });
});
