// Across both apps: an admin adds a package in the admin app, customers see it with its comparison
// column; once archived it can no longer be chosen for a new subscription.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";

const stack = await testStack({ spas: { web: true, admin: true } });
const browser = await testBrowser();

describe("catalog from the admin app to the customer app", () => {
  it("shows a new package to customers, and stops offering it once archived", async () => {
    await stack.createUser({ email: "ops@example.com", password: "admin-password-1", role: "admin" });
    const admin = await browser.newPage();
    await admin.goto(`${stack.baseUrl}/admin/`);
    await admin.getByLabel("Email").fill("ops@example.com");
    await admin.getByLabel("Password").fill("admin-password-1");
    await admin.getByRole("button", { name: "Sign in" }).click();
    await admin.getByRole("link", { name: "New package" }).click();
    await admin.getByLabel("Name", { exact: true }).fill("Scale");
    await admin.getByLabel("Description").fill("Between Pro and Enterprise.");
    await admin.getByLabel("Price per month").fill("199.00");
    await admin.getByLabel("Call minutes included").fill("6000");
    await admin.getByLabel("Agents allowed").fill("12");
    await admin.getByLabel("Analytics access").check();
    await admin.getByRole("button", { name: "Create package" }).click();
    await admin.getByRole("heading", { name: "Packages", exact: true }).waitFor();

    const customer = await browser.newPage();
    await customer.goto(`${stack.baseUrl}/sign-up`);
    await customer.getByLabel("Name").fill("Carla Customer");
    await customer.getByLabel("Email").fill("carla@example.com");
    await customer.getByLabel("Password").fill("correct horse battery");
    await customer.getByRole("button", { name: "Create account" }).click();
    const scale = customer.getByTestId("package-Scale");
    await scale.waitFor();
    expect(await scale.textContent()).toContain("$199.00");
    const headers = await customer.locator("table thead th").allTextContents();
    const column = headers.indexOf("Scale");
    expect(column).toBeGreaterThan(0);
    const cells = await customer
      .locator("table tbody tr")
      .evaluateAll((rows, i) => rows.map((r) => r.children[i]?.textContent ?? ""), column);
    expect(cells).toEqual(["6,000 minutes", "12 agents", "Yes", "No", "—"]);
    await screenshot(customer, "web-catalog-with-new-package");

    const row = admin.locator("tbody tr", { has: admin.getByText("Scale", { exact: true }) }).first();
    await row.getByRole("button", { name: "Archive Scale", exact: true }).click();
    await admin.getByRole("dialog").getByRole("button", { name: "Archive package" }).click();
    await admin.getByText("Scale is archived: customers can no longer choose it.").waitFor();

    await customer.reload();
    await customer.getByTestId("package-Pro").waitFor();
    expect(await customer.getByTestId("package-Scale").count()).toBe(0);
    // Nor can it be chosen by calling the API directly.
    const plan = await stack.database.db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Scale" } });
    const refused = await customer.evaluate(async (packageId) => {
      const response = await fetch("/api/subscriptions/user/actions/", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ action: "subscribe", package_id: packageId }),
      });
      return { status: response.status, body: await response.json() };
    }, plan.id);
    expect(refused.status).toBe(400);
    expect(refused.body.message).toBe("Scale is no longer offered.");
  });
});
