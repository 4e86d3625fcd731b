// Issue 19, point 1, in the browser: a Pro customer at 2,502 of 3,000 minutes with a downgrade to Starter
// scheduled; the admin moves the account's Stripe test clock past the renewal on the Billing clock page; then
// the customer app, the metering API and call authorization must all show the new period on the new plan,
// exactly as a real renewal will: nothing of last period's minutes counted against Starter, no stale 80%
// alert, no downgrade still "scheduled".
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  createAgent,
  packageId,
  reportCalls,
  signIn,
  subscribedCustomer,
  waitFor,
} from "./helpers.ts";

const stack = await testStack({ spas: { admin: true, web: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });
const CUSTOMER = { name: "Rena Renewal", email: "rena@renewal.test", password: "customer-password-1" };
const customer = await subscribedCustomer(stack, { ...CUSTOMER, plan: "Pro" });
const agentId = await createAgent(stack, customer.cookie, "Front desk");

const METERING = { authorization: "Bearer dev-metering-token", "content-type": "application/json" };

async function customerPage(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${stack.baseUrl}/sign-in`);
  await page.getByLabel("Email").fill(CUSTOMER.email);
  await page.getByLabel("Password").fill(CUSTOMER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
  if (path !== "/") await page.goto(`${stack.baseUrl}${path}`);
  return page;
}

async function usageApi() {
  const response = await fetch(`${stack.baseUrl}/api/v1/accounts/${customer.accountId}/usage`, {
    headers: METERING,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    period_start: string;
    period_end: string;
    minutes_used: number;
    minutes_limit: number;
  } & Record<string, unknown>;
}

async function authorizeOutbound(callId: string) {
  const response = await fetch(`${stack.baseUrl}/api/v1/calls/authorize`, {
    method: "POST",
    headers: METERING,
    body: JSON.stringify({
      call_id: callId,
      account_id: customer.accountId,
      agent_id: agentId,
      direction: "outbound",
    }),
  });
  const body = (await response.json()) as { decision: string; over_cap: boolean };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body;
}

describe("a renewal on the billing clock, as the customer sees it", () => {
  it("before: Pro at 2,502 of 3,000 minutes, 80% alert, the downgrade to Starter scheduled", async () => {
    await reportCalls(stack, customer.accountId, [1200, 1200, 102], { agentId });
    const downgrade = await fetch(`${stack.baseUrl}/api/subscriptions/user/actions/`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: customer.cookie, origin: stack.baseUrl },
      body: JSON.stringify({ action: "downgrade", package_id: await packageId(stack, "Starter") }),
    });
    expect(downgrade.status, await downgrade.clone().text()).toBe(200);

    const page = await customerPage("/");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByText("2,502 of 3,000 used").waitFor();
    await page.getByText(/Changes to Starter on/).waitFor();
    await page.getByText("80% of your included minutes used").waitFor();
    await screenshot(page, "journey-before-renewal");
    await page.close();

    const usage = await usageApi();
    expect(usage).toMatchObject({ minutes_used: 2502, minutes_limit: 3000 });
  });

  it("the admin moves the clock past the renewal: Starter's invoice is paid", async () => {
    const page = await signIn(stack, browser, `/billing-clock?account=${customer.accountId}`);
    await page.getByRole("heading", { name: CUSTOMER.name, level: 2 }).waitFor();
    await page.getByRole("button", { name: /Past the renewal/ }).click();
    await page.getByText("1 new invoice: Renewal $29.00 paid.").waitFor();
    await screenshot(page, "journey-admin-clock-renewed");
    await page.close();
    const subscription = await waitFor(stack, "the downgrade to take effect", async () => {
      const row = await db.subscription.findFirst({
        where: { accountId: customer.accountId },
        include: { plan: true },
      });
      return row?.plan.name === "Starter" && row.scheduledPlanId === null ? row : null;
    });
    expect(subscription.status).toBe("active");
  });

  it("after: every screen and API shows the new period on Starter, with nothing carried over", async () => {
    const subscription = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
    const usage = await usageApi();
    expect(new Date(usage.period_start).getTime()).toBe(subscription.currentPeriodStart.getTime());
    expect(usage).toMatchObject({ minutes_used: 0, minutes_limit: 1000 });
    // Outbound calls are allowed: the new period's 0 of 1,000, not last period's 2,502.
    expect(await authorizeOutbound(`journey-after-${Date.now()}`)).toMatchObject({
      decision: "allow",
      over_cap: false,
      max_duration_seconds: 60_000,
    });

    const page = await customerPage("/");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    const subscriptionCard = page.getByTestId("dashboard-subscription");
    await subscriptionCard
      .getByText(/Starter/)
      .first()
      .waitFor();
    await page.getByText(/^\s*0 of 1,000 used/).waitFor();
    expect(await page.getByText(/Changes to Starter/).count()).toBe(0);
    expect(await page.getByText("80% of your included minutes used").count()).toBe(0);
    expect(await page.getByText(/outbound calls pause/i).count()).toBe(0);
    await screenshot(page, "journey-dashboard-after-renewal");

    await page.goto(`${stack.baseUrl}/usage`);
    await page.getByRole("heading", { name: "Usage", level: 1 }).waitFor();
    const periodText = await page.getByText(/^Billing period /).textContent();
    const startDay = subscription.currentPeriodStart.toLocaleDateString("en-US", {
      month: "short",
      day: "numeric",
      timeZone: "UTC",
    });
    expect(periodText).toContain(startDay.split(" ")[0]);
    await screenshot(page, "journey-usage-after-renewal");

    await page.goto(`${stack.baseUrl}/billing`);
    await page.getByText("$29.00").first().waitFor();
    expect(await page.getByRole("button", { name: /^Keep / }).count()).toBe(0);
    await page.close();
  });

  it("a call in the new period counts against Starter's 1,000 minutes", async () => {
    const subscription = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
    // The account's "now" is its test clock's time, inside the new period.
    const startedAt = new Date(subscription.currentPeriodStart.getTime() + 60_000);
    await reportCalls(stack, customer.accountId, [10], { agentId, startedAt });
    const usage = await usageApi();
    expect(usage).toMatchObject({ minutes_used: 10, minutes_limit: 1000 });
    const page = await customerPage("/");
    await page.getByText(/^\s*10 of 1,000 used/).waitFor();
    await page.close();
  });
});
