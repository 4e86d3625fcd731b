// The customer dashboard in the browser: the built SPA, the real API (subscriptions through Stripe's
// emulator, usage through the metering API, webhooks for the failed renewal), driven in Chromium.
import { createStripeClient } from "@minutely/api";
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import * as helpers from "./helpers.ts";
import { PASSWORD } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser: Browser = await testBrowser();
const stripe = createStripeClient({ secretKey: "sk_test_dashboard_e2e", apiBase: stack.stripeApiBase });

const signIn = (page: Page, email: string) => helpers.signIn(stack, page, email);
const subscribeWithCard = (cookie: string, packageName: string) =>
  helpers.subscribeWithCard(stack, cookie, packageName);
const reportMinutes = (accountId: string, minutes: number) =>
  helpers.reportMinutes(stack, accountId, minutes);

/**
 * Gives the account a Stripe customer whose test clock started `daysAgo` days ago, so a subscription made
 * now (through the API, which reuses the customer) has a period already under way that the forecast can
 * extrapolate from.
 */
async function customerSince(accountId: string, email: string, daysAgo: number): Promise<void> {
  const clock = await stripe.testHelpers.testClocks.create({
    frozen_time: Math.floor(Date.now() / 1000) - daysAgo * 24 * 60 * 60,
  });
  const customer = await stripe.customers.create({
    email,
    test_clock: clock.id,
    metadata: { minutely_account_id: accountId },
  });
  await stack.database.db.account.update({
    where: { id: accountId },
    data: { stripeCustomerId: customer.id },
  });
}

describe("customer dashboard", () => {
  it("sends a new account to package selection", async () => {
    await stack.createUser({ email: "nina@example.com", password: PASSWORD, name: "Nina New" });
    const page = await browser.newPage();
    await signIn(page, "nina@example.com");
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/packages");
    expect(await page.getByTestId("dashboard-usage").count()).toBe(0);
    await screenshot(page, "web-dashboard-new-account");
    await page.close();
  });

  it("shows an active Pro account at 83%: gauge, the 80% alert, forecast, all from one round trip", async () => {
    const user = await stack.createUser({ email: "pat@example.com", password: PASSWORD, name: "Pat Pro" });
    await customerSince(user.accountId, "pat@example.com", 10);
    await subscribeWithCard(user.cookie, "Pro");
    await reportMinutes(user.accountId, 2490);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const trpcRequests: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/trpc/")) trpcRequests.push(decodeURIComponent(request.url()));
    });
    await signIn(page, "pat@example.com");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/");

    const gauge = page.getByRole("meter", { name: "Included minutes used" });
    expect(await gauge.getAttribute("value")).toBe("83");
    expect(await page.getByTestId("usage-gauge").textContent()).toContain("83%");
    expect(await page.getByTestId("minutes-remaining").textContent()).toBe("510 minutes remaining");
    await page.getByText("80% of your included minutes used").waitFor();
    // 2,490 minutes in the first 10 days of a 28- to 31-day period: 6,972 to 7,719 by its end (Pro plus
    // overage stays cheaper than Enterprise).
    expect(await page.getByTestId("forecast-projection").textContent()).toMatch(
      /^[67],\d{3} of 3,000 minutes by the period's end$/,
    );
    expect(await page.getByTestId("forecast-advice").textContent()).toMatch(
      /^At this pace you will use [67],\d{3} of 3,000 minutes; Pro remains your best option\.$/,
    );
    expect(await page.getByTestId("dashboard-forecast").textContent()).toMatch(
      /Projected overage: \$1\d\d\.\d\d \([34],\d{3} minutes beyond the limit\)/,
    );
    const subscription = page.getByTestId("dashboard-subscription");
    expect(await subscription.textContent()).toContain("Pro package");
    expect(await subscription.textContent()).toContain("Active");
    expect(await page.getByTestId("dashboard-agents").textContent()).toContain("0 of 5 active");
    await page.getByRole("list", { name: "Recent invoices" }).getByText("$99.00").waitFor();

    // One query feeds the page: dashboard.get once (batched with the banner's overview), no per-card reads.
    const dashboardCalls = trpcRequests.filter((url) => url.includes("dashboard.get"));
    expect(dashboardCalls).toHaveLength(1);
    expect(dashboardCalls[0]).toContain("subscription.overview");
    expect(
      trpcRequests.filter((url) => /usage\.|alerts\.list|agents\.list|subscription\.invoices/.test(url)),
    ).toEqual([]);

    // The chart's numbers, from the keyboard: the disclosure opens with Enter and lists today's minutes.
    await page.getByText("Show the numbers").focus();
    await page.keyboard.press("Enter");
    const table = page.getByRole("table", { name: "Minutes per day" });
    await table.waitFor();
    const today = new Date().toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
    expect(await table.getByRole("row", { name: new RegExp(`^${today} `) }).textContent()).toContain("2,490");
    expect(
      await page.getByRole("img", { name: /Minutes per day from .*: 2,490 minutes in total/ }).count(),
    ).toBe(1);
    await screenshot(page, "web-dashboard-pro-83");

    // Quick actions are links: keyboard focus and Enter lead to package management.
    await page
      .getByRole("navigation", { name: "Quick actions" })
      .getByRole("link", { name: /Subscription & Packages/ })
      .focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Subscription & Packages" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/packages");

    // Pro includes analytics: minutes by agent, direction and day.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Analytics" }).click();
    const byAgent = page.getByTestId("analytics-by-agent");
    await byAgent.waitFor();
    expect(await byAgent.getByRole("row", { name: /No agent/ }).textContent()).toContain("2,490");
    expect(await page.getByTestId("analytics-by-direction").textContent()).toContain("1,200 min");
    await screenshot(page, "web-analytics");
    await page.close();

    // The same dashboard on a phone: nothing wider than the screen.
    const phone = await browser.newPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    await signIn(phone, "pat@example.com");
    await phone.getByTestId("usage-gauge").waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(phone, "web-dashboard-phone");

    // Dismissing the alert (the list of @minutely/ui, as on the usage page) takes it off for good.
    await phone.getByRole("button", { name: "Dismiss the 80% alert" }).click();
    await phone.getByText("80% of your included minutes used").waitFor({ state: "detached" });
    await phone.reload();
    await phone.getByTestId("usage-gauge").waitFor();
    expect(await phone.getByRole("region", { name: "Usage alerts" }).count()).toBe(0);
    await phone.close();
  });

  it("shows a past_due account its banner with Update card after a renewal fails", async () => {
    const user = await stack.createUser({ email: "dan@example.com", password: PASSWORD, name: "Dan Due" });
    await subscribeWithCard(user.cookie, "Pro");
    const db = stack.database.db;
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: user.accountId } });
    const account = await db.account.findUniqueOrThrow({ where: { id: user.accountId } });
    // The card on file starts failing; the test clock moves past the renewal, whose charge fails.
    const failing = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", {
      customer: account.stripeCustomerId ?? "",
    });
    await stripe.subscriptions.update(row.stripeSubscriptionId, { default_payment_method: failing.id });
    await stripe.testHelpers.testClocks.advance(row.stripeTestClockId ?? "", {
      frozen_time: Math.floor(row.currentPeriodEnd.getTime() / 1000) + 3600,
    });
    // Stripe's webhooks reach the API, which marks the subscription past_due.
    await expect
      .poll(async () => (await db.subscription.findUniqueOrThrow({ where: { id: row.id } })).status, {
        timeout: 30_000,
      })
      .toBe("past_due");

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, "dan@example.com");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    const banner = page.getByRole("alert").filter({ hasText: "Your last payment failed" });
    await banner.waitFor();
    expect(await banner.getByRole("button", { name: "Update card" }).isVisible()).toBe(true);
    expect(await page.getByTestId("dashboard-subscription").textContent()).toContain("Past due");
    const billing = page
      .getByRole("navigation", { name: "Quick actions" })
      .getByRole("link", { name: /Billing/ });
    expect(await billing.textContent()).toContain("Your last payment failed: update your card.");
    await screenshot(page, "web-dashboard-past-due");
    await page.close();
  });

  it("says when the dashboard cannot be loaded, and loads it on Try again", async () => {
    const user = await stack.createUser({
      email: "erin@example.com",
      password: PASSWORD,
      name: "Erin Error",
    });
    const db = stack.database.db;
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const now = Date.now();
    await db.subscription.create({
      data: {
        accountId: user.accountId,
        planId: pro.id,
        stripePriceId: "price_e2e_dashboard_error",
        stripeSubscriptionId: "sub_e2e_dashboard_error",
        status: "active",
        currentPeriodStart: new Date(now - 24 * 60 * 60 * 1000),
        currentPeriodEnd: new Date(now + 29 * 24 * 60 * 60 * 1000),
      },
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The network drops every request for the dashboard until the route is removed.
    const dashboardRequests = (url: URL) =>
      url.pathname.startsWith("/trpc/") && url.pathname.includes("dashboard.get");
    await page.route(dashboardRequests, (route) => route.abort("connectionfailed"));
    await signIn(page, "erin@example.com");
    const failure = page.getByRole("alert").filter({ hasText: "Something went wrong" });
    await failure.waitFor();
    expect(await failure.textContent()).toContain("your dashboard could not be loaded");
    expect(await page.getByTestId("dashboard-usage").count()).toBe(0);
    await screenshot(page, "web-dashboard-error");
    await page.unroute(dashboardRequests);
    await failure.getByRole("button", { name: "Try again" }).click();
    await page.getByTestId("usage-gauge").waitFor();
    expect(await page.getByRole("meter", { name: "Included minutes used" }).getAttribute("value")).toBe("0");
    expect(await page.getByTestId("dashboard-forecast").textContent()).toContain("0 of 3,000 minutes");
    await page.close();
  });

  it("shows a package without analytics what analytics offer and how to get them", async () => {
    const user = await stack.createUser({
      email: "sam@example.com",
      password: PASSWORD,
      name: "Sam Starter",
    });
    const db = stack.database.db;
    const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    const now = Date.now();
    await db.subscription.create({
      data: {
        accountId: user.accountId,
        planId: starter.id,
        stripePriceId: "price_e2e_dashboard_starter",
        stripeSubscriptionId: "sub_e2e_dashboard_starter",
        status: "active",
        currentPeriodStart: new Date(now - 24 * 60 * 60 * 1000),
        currentPeriodEnd: new Date(now + 29 * 24 * 60 * 60 * 1000),
      },
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, "sam@example.com");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Analytics" }).click();
    const prompt = page.getByTestId("analytics-upgrade");
    await prompt.waitFor();
    expect(await prompt.textContent()).toContain("Your Starter package does not include analytics");
    await prompt.getByText("Pro ($99.00/month)").waitFor();
    expect(await page.getByTestId("analytics-by-agent").count()).toBe(0);
    await screenshot(page, "web-analytics-upgrade");
    await prompt.getByRole("link", { name: "Compare packages" }).click();
    await page.getByRole("heading", { name: "Subscription & Packages" }).waitFor();
    await page.close();
  });
});
