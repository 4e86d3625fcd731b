// Live usage in the browser: the dashboard's gauge, reserved minutes and alerts move by themselves while a
// script reports calls through the REST metering API (the page has no polling while live: only the stream
// can have refreshed it), and a tab refused at the per-user limit falls back to polling and still updates.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { METERING_TOKEN, reportMinutes, signIn } from "./helpers.ts";

// One live stream per user, so the second tab is refused and polls.
const stack = await testStack({ spas: { web: true }, env: { LIVE_MAX_STREAMS_PER_USER: "1" } });
const browser = await testBrowser();
const DAY = 24 * 60 * 60 * 1000;
const EMAIL = "liv@example.com";
let accountId: string;
let agentId: string;

beforeAll(async () => {
  const user = await stack.createUser({ email: EMAIL, password: "correct horse battery" });
  accountId = user.accountId;
  const db = stack.database.db;
  const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
  const now = Date.now();
  await db.subscription.create({
    data: {
      accountId,
      planId: starter.id,
      stripePriceId: "price_e2e_live",
      stripeSubscriptionId: "sub_e2e_live",
      status: "active",
      currentPeriodStart: new Date(now - DAY),
      currentPeriodEnd: new Date(now + 29 * DAY),
    },
  });
  agentId = (await db.agent.create({ data: { accountId, name: "Reception" } })).id;
});

async function gaugeText(page: Page): Promise<string | null> {
  return await page.getByRole("meter", { name: "Included minutes used" }).getAttribute("aria-valuetext");
}

async function authorizeCall(callId: string): Promise<void> {
  const response = await fetch(`${stack.baseUrl}/api/v1/calls/authorize`, {
    method: "POST",
    headers: { authorization: `Bearer ${METERING_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      call_id: callId,
      account_id: accountId,
      agent_id: agentId,
      direction: "outbound",
    }),
  });
  expect(response.status).toBe(200);
}

async function liveModeOf(page: Page): Promise<string | undefined> {
  return await page.evaluate(() => document.documentElement.dataset.liveMode);
}

describe("live dashboard", () => {
  let page: Page;

  it("moves the gauge, shows reserved minutes and fires alerts while calls are reported", async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(stack, page, EMAIL);
    await page.getByTestId("dashboard-usage").waitFor();
    await page.getByTestId("live-status").getByText("Live").waitFor();
    expect(await gaugeText(page)).toBe("0%: 0 of 1,000 minutes");
    await screenshot(page, "web-live-dashboard-before");

    // The calling platform authorizes a call: its 5 reserved minutes show while it runs.
    await authorizeCall("live-e2e-call-1");
    await expect
      .poll(() => page.getByTestId("minutes-reserved").textContent(), { timeout: 10_000 })
      .toBe("5 minutes held by calls in progress");

    // A script reports calls, one after another: the gauge follows each report.
    for (const [minutes, expected] of [
      [250, "25%: 250 of 1,000 minutes"],
      [300, "55%: 550 of 1,000 minutes"],
      [300, "85%: 850 of 1,000 minutes"],
    ] as const) {
      await reportMinutes(stack, accountId, minutes, `live-${minutes}-${expected.slice(0, 2)}`);
      await expect.poll(() => gaugeText(page), { timeout: 10_000 }).toBe(expected);
      // Still live: the page was refreshed by the stream, not by polling.
      expect(await liveModeOf(page)).toBe("live");
    }
    // 85% of the included minutes: the 80% alert appeared by itself.
    await page.getByText(/80%/).first().waitFor({ timeout: 10_000 });
    await screenshot(page, "web-live-dashboard-after");
  });

  it("falls back to polling in a second tab refused at the per-user limit, and still updates", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const second = await context.newPage();
    await signIn(stack, second, EMAIL);
    await second.getByTestId("dashboard-usage").waitFor();
    await second
      .getByTestId("live-status")
      .getByText("Refreshing every 5 seconds")
      .waitFor({ timeout: 10_000 });
    expect(await liveModeOf(second)).toBe("polling");
    const before = await gaugeText(second);
    await reportMinutes(stack, accountId, 50, "live-polling");
    await expect.poll(() => gaugeText(second), { timeout: 15_000 }).not.toBe(before);
    expect(await gaugeText(second)).toBe("90%: 900 of 1,000 minutes");
    // The first tab stayed live and saw it too.
    await expect.poll(() => gaugeText(page), { timeout: 10_000 }).toBe("90%: 900 of 1,000 minutes");
    await screenshot(second, "web-live-dashboard-polling");
    await context.close();
  });

  it("polls while the stream is down and goes live again when it reconnects, without a gap", async () => {
    expect(await liveModeOf(page)).toBe("live");
    // The API restarts (a deploy): the stream drops. Its reconnects are held back until the end of the test.
    const streams = "**/trpc/live.usage**";
    await page.route(streams, (route) => route.abort("connectionrefused"));
    await stack.restart();
    await expect.poll(() => liveModeOf(page), { timeout: 20_000 }).toBe("polling");
    // Reported while the stream is down: polling shows it.
    await reportMinutes(stack, accountId, 20, "live-stream-down");
    await expect.poll(() => gaugeText(page), { timeout: 15_000 }).toBe("92%: 920 of 1,000 minutes");
    // The stream reconnects (with its last event id) and the page is live again.
    await page.unroute(streams);
    await expect.poll(() => liveModeOf(page), { timeout: 30_000 }).toBe("live");
    await reportMinutes(stack, accountId, 30, "live-stream-back");
    await expect.poll(() => gaugeText(page), { timeout: 10_000 }).toBe("95%: 950 of 1,000 minutes");
    expect(await liveModeOf(page)).toBe("live");
  });
});
