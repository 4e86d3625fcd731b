// Agents and usage in the browser: the customer app, the real API and its metering API, for real.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
let page: Page;
let accountId: string;

const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  const user = await stack.createUser({ email: "mia@example.com", password: "correct horse battery" });
  accountId = user.accountId;
  // A Starter subscription (1,000 minutes, 1 agent, hard cap) whose period contains now.
  const db = stack.database.db;
  const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
  const now = Date.now();
  await db.subscription.create({
    data: {
      accountId,
      planId: starter.id,
      stripePriceId: "price_e2e_starter",
      stripeSubscriptionId: "sub_e2e_metering",
      status: "active",
      currentPeriodStart: new Date(now - DAY),
      currentPeriodEnd: new Date(now + 29 * DAY),
    },
  });
  page = await browser.newPage();
  await page.goto(`${stack.baseUrl}/sign-in`);
  await page.getByLabel("Email").fill("mia@example.com");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
});

describe("agents page", () => {
  it("creates an agent, refuses one beyond the package with its message, renames and deactivates", async () => {
    await page.getByRole("link", { name: "Agents" }).click();
    await page.getByRole("heading", { name: "Agents" }).waitFor();
    expect(await page.getByTestId("agent-allowance").textContent()).toContain("0 of 1");

    await page.getByRole("button", { name: "Add agent" }).click();
    await page.getByText("Enter a name for the agent.").waitFor();

    await page.getByLabel("Agent name").fill("Reception");
    await page.getByRole("button", { name: "Add agent" }).click();
    await page.getByTestId("agent-Reception").waitFor();
    await expect.poll(() => page.getByTestId("agent-allowance").textContent()).toContain("1 of 1");

    await page.getByLabel("Agent name").fill("Sales");
    await page.getByRole("button", { name: "Add agent" }).click();
    await page.getByText(/Starter package allows 1 active agent and you have 1/).waitFor();
    await screenshot(page, "web-agents-at-limit");

    await page.getByTestId("agent-Reception").getByRole("button", { name: "Rename" }).click();
    await page.getByLabel("New name for Reception").fill("Front desk");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByTestId("agent-Front desk").waitFor();

    await page.getByTestId("agent-Front desk").getByRole("button", { name: "Deactivate" }).click();
    await page.getByTestId("agent-Front desk").getByText("Inactive").waitFor();
    await expect.poll(() => page.getByTestId("agent-allowance").textContent()).toContain("0 of 1");
    const agents = await stack.database.db.agent.findMany({ where: { accountId } });
    expect(agents.map((a) => [a.name, a.active])).toEqual([["Front desk", false]]);
  });
});

describe("usage page", () => {
  it("shows the minutes the calling platform reported, and the alert they triggered", async () => {
    const response = await fetch(`${stack.baseUrl}/api/v1/usage/calls`, {
      method: "POST",
      headers: { authorization: "Bearer dev-metering-token", "content-type": "application/json" },
      body: JSON.stringify({
        events: [
          {
            call_id: "e2e-call-1",
            account_id: accountId,
            direction: "outbound",
            // Now: a call dated before the subscription began would be rejected (before_subscription).
            started_at: new Date().toISOString(),
            duration_seconds: 850 * 60,
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).accepted).toBe(1);

    await page.getByRole("link", { name: "Usage" }).click();
    const summary = page.getByTestId("usage-summary");
    await summary.waitFor();
    expect(await summary.textContent()).toMatch(/850\s*of 1,000 minutes \(85%\)/);
    await page.getByText("80% of your included minutes used").waitFor();
    await screenshot(page, "web-usage");
    await page.getByRole("button", { name: "Dismiss" }).click();
    await page.getByText("80% of your included minutes used").waitFor({ state: "detached" });
  });
});
