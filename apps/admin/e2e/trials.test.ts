// Free trials in the admin app, in Chromium against the real API: an admin gives Starter a 14-day trial
// without a card (the form refuses 0 days on its field), the package list shows it, a customer starts that
// trial, and the customer list and the Revenue page count the trial apart (trialing, not in MRR).
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { ADMIN, packageId, signIn } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
await stack.createUser({ ...ADMIN, role: "admin" });

describe("free trials (admin)", () => {
  it("sets a package's trial, and sees the trialing customer counted apart from MRR", async () => {
    const page = await signIn(stack, browser, "/packages", { viewport: { width: 1280, height: 900 } });
    const starter = page.locator('tbody > tr[data-package="Starter"]');
    await starter.getByRole("link", { name: "Edit Starter", exact: true }).click();
    await page.getByRole("heading", { name: "Edit Starter" }).waitFor();
    await page.getByLabel("Offer a free trial").check();
    const days = page.getByLabel("Trial length (days)");
    await days.fill("0");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Trial days must be between 1 and 90.").first().waitFor();
    expect(await days.getAttribute("aria-invalid")).toBe("true");
    await days.fill("14");
    await page.getByLabel("Card required to start the trial").uncheck();
    await screenshot(page, "admin-package-trial-form");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Saved Starter.").waitFor();
    expect(await starter.textContent()).toContain("14-day trial, no card");
    await screenshot(page, "admin-packages-trial");
    const plan = await stack.database.db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    expect(plan).toMatchObject({ trialDays: 14, trialRequiresCard: false });

    // A customer starts the trial (no card: no Checkout).
    const user = await stack.createUser({
      email: "tess@trial.test",
      password: "customer-password-1",
      name: "Tess",
    });
    const response = await fetch(`${stack.baseUrl}/api/subscriptions/user/actions/`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: user.cookie, origin: stack.baseUrl },
      body: JSON.stringify({ action: "subscribe", package_id: await packageId(stack, "Starter") }),
    });
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ result: "subscribed", subscription: { status: "trialing" } });

    await page.goto(`${stack.baseUrl}/admin/customers`);
    const trial = page.getByTestId("customer-trial");
    await trial.waitFor();
    expect(await trial.textContent()).toMatch(/^Trial ends /);
    await screenshot(page, "admin-customers-trial");

    await page.goto(`${stack.baseUrl}/admin/revenue`);
    await page.locator('[data-kpi="Trialing subscribers"]').waitFor();
    expect(await page.locator('[data-kpi="Trialing subscribers"]').textContent()).toBe("1");
    expect(await page.locator('[data-kpi="MRR"]').textContent()).toBe("$0.00");
    await screenshot(page, "admin-revenue-trials");
  });
});
