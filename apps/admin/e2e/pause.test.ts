// Pausing a customer's subscription from the admin app against the real API and the Stripe emulator: the
// admin pauses it until resumed on the customer page, finds the account with the "Paused" filter, and
// resumes it; both actions land in the audit log.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { ADMIN, signIn, subscribedCustomer } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });

await subscribedCustomer(stack, { name: "Seasonal Clinic", email: "ceo@seasonal.test", plan: "Pro" });
await subscribedCustomer(stack, { name: "Busy Clinic", email: "ceo@busy.test", plan: "Pro" });

describe("pausing a customer's subscription in the admin app", () => {
  it("pauses until resumed, lists the account as paused, and resumes it (audit-logged)", async () => {
    const page = await signIn(stack, browser, "/customers");
    await page.getByRole("link", { name: "Seasonal Clinic" }).click();
    const fact = page.getByTestId("admin-pause");
    await fact.waitFor();
    await fact.getByLabel("Pause length").selectOption("until");
    await fact.getByRole("button", { name: "Pause subscription" }).click();
    await expect.poll(() => fact.textContent()).toMatch(/Pauses on .+, until resumed/);
    await screenshot(page, "admin-customer-pause-set");

    await page.goto(`${stack.baseUrl}/admin/customers`);
    await page.getByLabel("Subscription status").selectOption("paused");
    await page.waitForURL((url) => url.searchParams.get("status") === "paused");
    const rows = page.locator("tbody > tr[data-account]");
    await expect
      .poll(() => rows.evaluateAll((r) => r.map((row) => (row as HTMLElement).dataset.account)))
      .toEqual(["Seasonal Clinic"]);
    expect(await page.getByTestId("customer-pause").textContent()).toMatch(/Pauses on .+, until resumed/);
    await screenshot(page, "admin-customers-paused");

    await page.getByRole("link", { name: "Seasonal Clinic" }).click();
    await page.getByTestId("admin-pause").getByRole("button", { name: "Resume now" }).click();
    await page.getByTestId("admin-pause").getByRole("button", { name: "Pause subscription" }).waitFor();
    const actions = (await db.auditLog.findMany({ orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions.filter((a) => a.startsWith("subscription."))).toEqual([
      "subscription.pause",
      "subscription.resume_pause",
    ]);
    await screenshot(page, "admin-customer-pause-resumed");
  });
});
