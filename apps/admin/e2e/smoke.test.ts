import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();

async function signIn(email: string, password: string) {
  const page = await browser.newPage();
  await page.goto(`${stack.baseUrl}/admin/`);
  await page.getByRole("heading", { name: "Admin sign in" }).waitFor();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  return page;
}

describe("admin app smoke test", () => {
  it("signs an admin in and lists every package read through tRPC from the database", async () => {
    await stack.createUser({ email: "ops@example.com", password: "admin-password-1", role: "admin" });
    await stack.database.db.subscriptionPlan.update({ where: { name: "Starter" }, data: { active: false } });

    const page = await signIn("ops@example.com", "admin-password-1");
    await page.getByRole("heading", { name: "Packages" }).waitFor();
    const rows = page.locator("tbody tr");
    expect(await rows.count()).toBe(3);
    expect(await rows.filter({ hasText: "Starter" }).textContent()).toContain("Archived");
    expect(await rows.filter({ hasText: "Enterprise" }).textContent()).toContain("$299.00/mo");
    expect(await page.getByText("Stripe-compatible emulator for development").count()).toBe(1);
    await screenshot(page, "admin-smoke-packages");
  });

  it("refuses a signed-in customer clearly", async () => {
    await stack.createUser({ email: "customer@example.com", password: "customer-password-1" });
    const page = await signIn("customer@example.com", "customer-password-1");
    await page.getByText("Admins only").waitFor();
    expect(new URL(page.url()).pathname).toBe("/admin/forbidden");
    await expect.poll(() => page.title()).toBe("Admins only · Minutely Admin");
    await screenshot(page, "admin-refuses-customer");
  });
});
