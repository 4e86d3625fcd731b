// Overage budgets (spend caps) in the admin app against the real API and the Stripe emulator: a Pro customer
// sets a $3.00 budget through the REST route and its calls go past it; the admin sees the budget and the
// "Capped" badge in the customer list, narrows it to capped accounts, and sees the spend against the budget
// and the change in the customer's activity (audit log).
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { ADMIN, reportCalls, signIn, subscribedCustomer, waitFor } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });

async function setBudget(cookie: string, amountCents: number) {
  const response = await fetch(`${stack.baseUrl}/api/billing/spend-cap`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, origin: stack.baseUrl },
    body: JSON.stringify({ amount_cents: amountCents, currency: "usd" }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

const capped = await subscribedCustomer(stack, {
  name: "Capped Calls",
  email: "ceo@capped.test",
  plan: "Pro",
});
const roomy = await subscribedCustomer(stack, { name: "Roomy Calls", email: "ceo@roomy.test", plan: "Pro" });
await subscribedCustomer(stack, { name: "No Budget Inc", email: "ceo@nobudget.test", plan: "Pro" });
await setBudget(capped.cookie, 300);
await setBudget(roomy.cookie, 5000);
// 3,120 minutes on Pro: 120 beyond the 3,000 included, while $3.00 pays for 100.
await reportCalls(stack, capped.accountId, [1200, 1200, 720]);
await reportCalls(stack, roomy.accountId, [1200, 1200, 720]);
await waitFor(stack, "the budget's 100% alert", () =>
  db.usageAlert.findFirst({
    where: { accountId: capped.accountId, kind: "spend_cap", thresholdPercent: 100 },
  }),
);

describe("overage budgets in the admin app", () => {
  it("shows budgets and capped accounts in the list, filters them, and shows the budget on the customer page", async () => {
    const page = await signIn(stack, browser, "/customers");
    const row = (name: string) => page.locator(`tbody > tr[data-account="${name}"]`);
    await row("Capped Calls").waitFor();
    expect(await row("Capped Calls").textContent()).toContain("$3.00Capped");
    expect(await row("Roomy Calls").textContent()).toContain("$50.00");
    expect(await row("Roomy Calls").textContent()).not.toContain("Capped");

    await page.getByLabel("Overage budget").selectOption("reached");
    await page.waitForURL((url) => url.searchParams.get("cap") === "reached");
    await row("Roomy Calls").waitFor({ state: "detached" });
    const names = await page
      .locator("tbody > tr[data-account]")
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.account));
    expect(names).toEqual(["Capped Calls"]);
    await screenshot(page, "admin-customers-capped");

    await page.getByRole("link", { name: "Capped Calls" }).click();
    const fact = page.getByTestId("spend-cap");
    await fact.waitFor();
    expect(await fact.textContent()).toContain("$3.00 of $3.00 this period (100%)");
    expect(await fact.textContent()).toContain("Capped: outbound calls denied");
    await screenshot(page, "admin-customer-capped");

    await fact.getByRole("link", { name: "Changes" }).click();
    await page.getByText("spend_cap.set").first().waitFor();
    await screenshot(page, "admin-customer-spend-cap-audit");
  });
});
