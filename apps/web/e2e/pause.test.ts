// Pausing the subscription in the browser: the Billing page pauses it for a billing period (the paid period
// is kept), the dashboard says when it resumes, the Stripe test clock moves past the period end (the renewal
// is voided, calls are denied subscription_paused), and "Resume now" lifts the pause. The built SPA, the
// real API and the Stripe emulator, for real.
import { createStripeClient } from "@minutely/api";
import { screenshot, testBrowser, testStack, userWithAccount } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { METERING_TOKEN, signUpAndPay } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const stripe = createStripeClient({ secretKey: "sk_test_pause_e2e", apiBase: stack.stripeApiBase });
let page: Page;
let accountId: string;
let agentId: string;

beforeAll(async () => {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signUpAndPay(stack, page, { name: "Pia Pause", email: "pia@example.com" }, "Pro");
  const db = stack.database.db;
  accountId = (await userWithAccount(db, { email: "pia@example.com" })).accountId ?? "";
  agentId = (await db.agent.create({ data: { accountId, name: "Front desk" } })).id;
});

async function authorize(callId: string) {
  const response = await fetch(`${stack.baseUrl}/api/v1/calls/authorize`, {
    method: "POST",
    headers: { authorization: `Bearer ${METERING_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ call_id: callId, account_id: accountId, agent_id: agentId, direction: "inbound" }),
  });
  return (await response.json()) as { decision: string; reason?: string };
}

describe("pausing the subscription", () => {
  it("pauses from the end of the paid period, says when it resumes, denies calls once paused, and resumes", async () => {
    await page.goto(`${stack.baseUrl}/billing`);
    const form = page.getByTestId("pause-form");
    await form.waitFor();
    await page.getByLabel("Pause for").selectOption("1");
    await screenshot(page, "web-pause-form");
    await page.getByRole("button", { name: "Pause subscription" }).click();
    const pause = page.getByTestId("pause");
    await pause.waitFor();
    expect(await pause.textContent()).toMatch(/Pause starts on .+; resumes on /);
    await screenshot(page, "web-pause-scheduled");
    // The period paid is kept: calls are still allowed.
    expect(await authorize("e2e-pause-before")).toMatchObject({ decision: "allow" });

    await page.getByRole("link", { name: "Dashboard" }).click();
    const dashboardPause = page.getByTestId("dashboard-pause");
    await dashboardPause.waitFor();
    expect(await dashboardPause.textContent()).toContain("resumes on");

    // The test clock passes the period end: the renewal is voided and the pause is in effect.
    const db = stack.database.db;
    const row = await db.subscription.findFirstOrThrow({ where: { accountId } });
    await stripe.testHelpers.testClocks.advance(row.stripeTestClockId ?? "", {
      frozen_time: Math.floor(row.currentPeriodEnd.getTime() / 1000) + 3600,
    });
    await expect
      .poll(async () => (await db.subscription.findUniqueOrThrow({ where: { id: row.id } })).testClockTime, {
        timeout: 30_000,
      })
      .toSatisfy((t: Date | null) => t !== null && t.getTime() > row.currentPeriodEnd.getTime());
    expect(await authorize("e2e-pause-during")).toMatchObject({
      decision: "deny",
      reason: "subscription_paused",
    });
    await page.reload();
    await expect
      .poll(() => page.getByTestId("dashboard-pause").textContent())
      .toMatch(/^Paused: .*resumes on /);
    expect(await page.getByTestId("dashboard-subscription").textContent()).toContain("Paused");
    // A paused period bills nothing: no forecast of it.
    expect(await page.getByTestId("dashboard-forecast").count()).toBe(0);
    await screenshot(page, "web-dashboard-paused");

    await page.goto(`${stack.baseUrl}/billing`);
    await expect
      .poll(() => page.getByTestId("pause").textContent())
      .toMatch(/^Paused: no calls and no charges/);
    await expect
      .poll(() => page.getByRole("table", { name: "Invoices" }).textContent(), { timeout: 15_000 })
      .toMatch(/void/i);
    // Package changes wait until the pause is lifted.
    expect(await page.getByRole("link", { name: "Change package" }).count()).toBe(0);
    await screenshot(page, "web-billing-paused");

    await page.getByRole("button", { name: "Resume now" }).click();
    await page.getByTestId("pause-form").waitFor();
    expect(await page.getByTestId("subscription-card").textContent()).toContain("Active");
    expect(await authorize("e2e-pause-after")).toMatchObject({ decision: "allow" });
    await screenshot(page, "web-billing-pause-resumed");
  });
});
