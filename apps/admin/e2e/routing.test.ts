// The admin app's routing attacked as a careless user and a hostile URL typer would: hand-typed addresses
// and filters, where sign-in sends the visitor back to (never off the app), and the history around sign-in.
import { testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();

beforeAll(async () => {
  await stack.createUser({ ...ADMIN, role: "admin" });
});

async function submitSignIn(page: Page) {
  await page.getByRole("heading", { name: "Admin sign in" }).waitFor();
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const where = (page: Page) => {
  const url = new URL(page.url());
  return url.origin === stack.baseUrl ? url.pathname + url.search : url.href;
};

describe("admin routing under attack", () => {
  it("brings a hand-typed filtered address back after sign-in, leaving no sign-in form behind in the history", async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.baseUrl}/admin/customers?q=acme`);
    await submitSignIn(page);
    await page.getByRole("heading", { name: "Customers" }).waitFor();
    expect(where(page)).toBe("/admin/customers?q=acme");
    expect(await page.getByLabel("Search customers").inputValue()).toBe("acme");
    // Back leaves the app (the tab was blank before): no sign-in form for someone who is signed in.
    await page.goBack();
    await expect.poll(() => page.url()).toBe("about:blank");
    await page.goForward();
    await page.getByRole("heading", { name: "Customers" }).waitFor();
    expect(where(page)).toBe("/admin/customers?q=acme");
    await page.close();
  });

  it("never follows a redirect off the app after sign-in", async () => {
    for (const hostile of [
      "//evil.example",
      "https://evil.example",
      "javascript:alert(1)",
      "/\\evil.example",
      "/\t/evil.example",
      "/../customers",
      "/%2e%2e/customers",
      "~/customers",
    ]) {
      const page = await browser.newPage();
      await page.goto(`${stack.baseUrl}/admin/sign-in?redirect=${encodeURIComponent(hostile)}`);
      await submitSignIn(page);
      await page.getByRole("heading", { name: "Packages" }).waitFor();
      expect(where(page), hostile).toBe("/admin/packages");
      await page.close();
    }
  });

  it("answers hand-typed addresses: not found, trailing slashes, case, odd search values", async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.baseUrl}/admin/sign-in`);
    await submitSignIn(page);
    await page.getByRole("heading", { name: "Packages" }).waitFor();
    for (const path of [
      "/admin/nope",
      "/admin/customers/a/b",
      "/admin//customers",
      `/admin/${"x".repeat(3000)}`,
    ]) {
      await page.goto(`${stack.baseUrl}${path}`);
      await page.getByRole("heading", { name: "Page not found" }).waitFor();
    }
    for (const path of [
      "/admin/customers/",
      "/admin/Customers",
      "/admin/customers?__proto__=%7B%22q%22%3A%22x%22%7D&constructor=1&toString=2",
      "/admin/customers?q=%7B%22a%22%3A1%7D&page=%5B1%2C2%5D&status=__proto__",
      "/admin/customers?q=a&q=b&page=-1&page=1e999",
    ]) {
      await page.goto(`${stack.baseUrl}${path}`);
      await page.getByRole("heading", { name: "Customers" }).waitFor();
      expect(await page.getByText("Something went wrong").count(), path).toBe(0);
    }
    await page.close();
  });
});
