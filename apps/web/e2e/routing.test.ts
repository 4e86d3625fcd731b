// The customer app's routing attacked as a careless user and a hostile URL typer would: where sign-in sends
// the visitor back to (never off the app, whatever the redirect says), and the history around sign-in.
import { testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { PASSWORD } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const EMAIL = "router-attack@example.com";

beforeAll(async () => {
  await stack.createUser({ email: EMAIL, password: PASSWORD });
});

async function submitSignIn(page: Page) {
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

describe("customer app routing under attack", () => {
  it("never follows a redirect off the app after sign-in", async () => {
    for (const hostile of [
      "//evil.example",
      "https://evil.example",
      "javascript:alert(1)",
      "/\\evil.example",
      "/\\/evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/../usage",
    ]) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(`${stack.baseUrl}/sign-in?redirect=${encodeURIComponent(hostile)}`);
      await submitSignIn(page);
      // Home: the dashboard, which sends a customer without a package on to the packages.
      await page.waitForURL((url) => url.pathname !== "/sign-in", { timeout: 10_000 });
      const url = new URL(page.url());
      expect(url.origin, hostile).toBe(stack.baseUrl);
      expect(["/", "/packages"], hostile).toContain(url.pathname);
      expect(errors, hostile).toEqual([]);
      await page.close();
    }
  });

  it("leaves no sign-in form behind in the history after signing in", async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.baseUrl}/account?tab=1`);
    await page.waitForURL((url) => url.pathname === "/sign-in");
    await submitSignIn(page);
    await page.waitForURL(`${stack.baseUrl}/account?tab=1`);
    await page.goBack();
    await expect.poll(() => page.url()).toBe("about:blank");
    await page.goForward();
    await page.waitForURL(`${stack.baseUrl}/account?tab=1`);
    await page.close();
  });

  it("notices on the next navigation a session ended in another tab, at once", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.baseUrl}/sign-in?redirect=%2Faccount`);
    await submitSignIn(page);
    await page.waitForURL(`${stack.baseUrl}/account`);
    // Another tab of the same browser signs out.
    const other = await context.newPage();
    await other.goto(`${stack.baseUrl}/account`);
    await other.getByRole("button", { name: "Sign out" }).click();
    await other.waitForURL((url) => url.pathname === "/sign-in");
    // Seconds later (well within any cache of who is signed in), the first tab moves on: sign-in, and back.
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Usage", exact: true })
      .click();
    await page.waitForURL((url) => url.pathname === "/sign-in", { timeout: 5_000 });
    expect(new URL(page.url()).searchParams.get("redirect")).toBe("/usage");
    await context.close();
  });
});
