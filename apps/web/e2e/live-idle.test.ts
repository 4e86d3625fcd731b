// Live usage's idle close in the browser: a stream that heard of no change for LIVE_IDLE_TIMEOUT_SECONDS is
// closed by the server; the page says it polls, and goes live again when its user is back (a key press).
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { reportMinutes, signIn } from "./helpers.ts";

const stack = await testStack({ spas: { web: true }, env: { LIVE_IDLE_TIMEOUT_SECONDS: "5" } });
const browser = await testBrowser();
const DAY = 24 * 60 * 60 * 1000;
let accountId: string;

beforeAll(async () => {
  const user = await stack.createUser({ email: "ida@example.com", password: "correct horse battery" });
  accountId = user.accountId;
  const db = stack.database.db;
  const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
  await db.subscription.create({
    data: {
      accountId,
      planId: pro.id,
      stripePriceId: "price_e2e_idle",
      stripeSubscriptionId: "sub_e2e_idle",
      status: "active",
      currentPeriodStart: new Date(Date.now() - DAY),
      currentPeriodEnd: new Date(Date.now() + 29 * DAY),
    },
  });
});

describe("an idle live stream", () => {
  it("is closed after the idle timeout, the page polls, and goes live again when the user is back", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(stack, page, "ida@example.com");
    await page.getByTestId("live-status").getByText("Live").waitFor();
    // Nothing happens for the idle timeout: the server closes the stream and the page polls.
    await page
      .getByTestId("live-status")
      .getByText("Refreshing every 5 seconds")
      .waitFor({ timeout: 20_000 });
    await screenshot(page, "web-live-idle-polling");
    // Still current while polling.
    await reportMinutes(stack, accountId, 300, "idle-1");
    await expect
      .poll(() => page.getByRole("meter", { name: "Included minutes used" }).getAttribute("value"), {
        timeout: 15_000,
      })
      .toBe("10");
    // The user is back: the stream opens again, resuming from its last event id.
    await page.keyboard.press("Shift");
    await page.getByTestId("live-status").getByText("Live").waitFor({ timeout: 10_000 });
    await reportMinutes(stack, accountId, 300, "idle-2");
    await expect
      .poll(() => page.getByRole("meter", { name: "Included minutes used" }).getAttribute("value"), {
        timeout: 10_000,
      })
      .toBe("20");
    expect(await page.evaluate(() => document.documentElement.dataset.liveMode)).toBe("live");
  });
});
