// The overage budget (spend cap) in the browser: the Usage page sets it, shows the period's overage against
// it, says clearly once it is reached (outbound calls are then denied by the metering API) and lets the
// customer raise it; the real API, its metering API and the built SPA, for real.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { METERING_TOKEN, reportMinutes, signIn } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
let page: Page;
let accountId: string;
let agentId: string;

const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  const user = await stack.createUser({ email: "cap@example.com", password: "correct horse battery" });
  accountId = user.accountId;
  // A Pro subscription (3,000 minutes, $0.03 a minute beyond) whose period contains now.
  const db = stack.database.db;
  const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
  const now = Date.now();
  await db.subscription.create({
    data: {
      accountId,
      planId: pro.id,
      stripePriceId: "price_e2e_pro",
      stripeSubscriptionId: "sub_e2e_spend_cap",
      status: "active",
      currentPeriodStart: new Date(now - DAY),
      currentPeriodEnd: new Date(now + 29 * DAY),
    },
  });
  agentId = (await db.agent.create({ data: { accountId, name: "Outreach" } })).id;
  page = await browser.newPage();
  await signIn(stack, page, "cap@example.com");
});

async function authorizeOutbound(callId: string) {
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
  return (await response.json()) as { decision: string; reason?: string };
}

describe("the overage budget on the Usage page", () => {
  it("sets a budget, says when it is reached (outbound calls denied) and raises it", async () => {
    await page.getByRole("link", { name: "Usage" }).click();
    const card = page.getByTestId("spend-cap");
    await card.waitFor();
    expect(await page.getByTestId("spend-cap-status").textContent()).toContain("No budget set");

    await page.getByLabel("Monthly budget (USD)").fill("three dollars");
    await page.getByRole("button", { name: "Set budget" }).click();
    await page.getByText("Enter an amount such as 50 or 49.99.").waitFor();

    // $3.00 at $0.03 a minute: 100 minutes beyond the 3,000 included.
    await page.getByLabel("Monthly budget (USD)").fill("3");
    await page.getByRole("button", { name: "Set budget" }).click();
    await expect
      .poll(() => page.getByTestId("spend-cap-status").textContent())
      .toMatch(/\$0\.00\s*of \$3\.00 budget/);
    await screenshot(page, "web-spend-cap-set");

    await reportMinutes(stack, accountId, 3120);
    expect(await authorizeOutbound("e2e-cap-denied")).toMatchObject({
      decision: "deny",
      reason: "spend_cap_reached",
    });
    // No reload: the live usage stream re-reads the card (well before its own 15-second refetch).
    await page.getByTestId("spend-cap-reached").waitFor({ timeout: 8000 });
    expect(await page.getByTestId("spend-cap-status").textContent()).toMatch(/\$3\.00\s*of \$3\.00 budget/);
    await page.getByText("Overage budget used up").first().waitFor();
    await screenshot(page, "web-spend-cap-reached");

    await page.getByLabel("New budget (USD)").fill("10.50");
    await page.getByRole("button", { name: "Change budget" }).click();
    await page.getByTestId("spend-cap-reached").waitFor({ state: "detached" });
    expect(await page.getByTestId("spend-cap-status").textContent()).toMatch(/of \$10\.50 budget/);
    expect(await authorizeOutbound("e2e-cap-allowed")).toMatchObject({ decision: "allow" });
    const account = await stack.database.db.account.findUniqueOrThrow({ where: { id: accountId } });
    expect([account.overageCapCents, account.overageCapCurrency]).toEqual([1050, "usd"]);
    const changes = await stack.database.db.auditLog.findMany({
      where: { entityType: "account", entityId: accountId },
      orderBy: { createdAt: "asc" },
    });
    expect(changes.map((c) => c.action)).toEqual(["spend_cap.set", "spend_cap.set"]);
  });
});
