// Issue 28: the customer app's page states a user really meets, each checked by axe-core (every
// `screenshot` runs it and fails on any violation): signed out, forms with errors, without a subscription,
// subscribed above 80%, each dialog open, and at 200% zoom (a 640-pixel-wide viewport). Keyboard use too:
// the skip link, and dialogs that are modal, trap focus and give it back.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const PASSWORD = "correct horse battery";

async function signedIn(email: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(`${stack.baseUrl}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
  return page;
}

async function subscribe(cookie: string, packageName: string): Promise<void> {
  const plan = await stack.database.db.subscriptionPlan.findUniqueOrThrow({ where: { name: packageName } });
  const response = await fetch(`${stack.baseUrl}/api/subscriptions/user/actions/`, {
    method: "POST",
    headers: { cookie, origin: stack.baseUrl, "content-type": "application/json" },
    body: JSON.stringify({ action: "subscribe", package_id: plan.id, payment_method_id: "pm_card_visa" }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

async function reportMinutes(accountId: string, minutes: number): Promise<void> {
  const events = [];
  for (let left = minutes, i = 0; left > 0; left -= 1200, i++) {
    events.push({
      call_id: `a11y-${accountId}-${i}`,
      account_id: accountId,
      direction: "inbound",
      started_at: new Date().toISOString(),
      duration_seconds: Math.min(left, 1200) * 60,
    });
  }
  const response = await fetch(`${stack.baseUrl}/api/v1/usage/calls`, {
    method: "POST",
    headers: { authorization: "Bearer dev-metering-token", "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  expect(response.status).toBe(200);
}

async function visit(page: Page, path: string, name: string) {
  await page.goto(`${stack.baseUrl}${path}`);
  await page.getByRole("main").waitFor();
  await page.getByRole("heading", { level: 1 }).first().waitFor();
  await screenshot(page, name);
}

describe("customer app accessibility (axe-core on every state)", () => {
  it("signed out: sign-in and sign-up, and both with their errors", async () => {
    const page = await browser.newPage();
    await visit(page, "/sign-in", "a11y-web-sign-in");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").first().waitFor();
    await screenshot(page, "a11y-web-sign-in-errors");
    await visit(page, "/sign-up", "a11y-web-sign-up");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("alert").first().waitFor();
    await screenshot(page, "a11y-web-sign-up-errors");
    await page.close();
  });

  it("without a subscription: every page", async () => {
    await stack.createUser({ email: "nosub@a11y.test", password: PASSWORD, name: "Nora Nosub" });
    const page = await signedIn("nosub@a11y.test");
    for (const path of ["/packages", "/usage", "/agents", "/api-keys", "/billing", "/analytics"]) {
      await visit(page, path, `a11y-web-nosub${path.replace("/", "-")}`);
    }
    await page.close();
  });

  it("subscribed at 85%: every page and each dialog open, modal, trapping and returning focus", async () => {
    const user = await stack.createUser({ email: "pro@a11y.test", password: PASSWORD, name: "Pia Pro" });
    await subscribe(user.cookie, "Pro");
    await reportMinutes(user.accountId, 2550);
    // More agents than Starter allows: the downgrade dialog asks which stay (focus starts on a checkbox).
    for (const name of ["Front desk", "Night line"]) {
      await stack.database.db.agent.create({ data: { accountId: user.accountId, name } });
    }
    const page = await signedIn("pro@a11y.test");
    for (const path of ["/", "/usage", "/agents", "/api-keys", "/billing", "/analytics", "/packages"]) {
      await visit(page, path, `a11y-web-pro${path === "/" ? "-dashboard" : path.replace("/", "-")}`);
    }

    // The skip link is the first thing Tab reaches, and moves focus to the main content.
    await page.goto(`${stack.baseUrl}/usage`);
    await page.getByRole("heading", { level: 1 }).first().waitFor();
    await page.keyboard.press("Tab");
    const skip = page.getByRole("link", { name: /skip to (main )?content/i });
    expect(await skip.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.closest("main") !== null)).toBe(true);

    await page.goto(`${stack.baseUrl}/packages`);
    const upgrade = page.getByRole("button", { name: "Upgrade to Enterprise" });
    await upgrade.click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    expect(await dialog.getAttribute("aria-modal")).toBe("true");
    await dialog.getByRole("button", { name: /and upgrade/ }).waitFor();
    await screenshot(page, "a11y-web-upgrade-dialog");
    // Tab cycles inside the dialog, whatever the number of presses.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press("Tab");
      expect(await dialog.evaluate((el) => el.contains(document.activeElement))).toBe(true);
    }
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    expect(await upgrade.evaluate((el) => el === document.activeElement)).toBe(true);

    // The downgrade button keeps focus while the dialog's agents load, so Escape gives it back (it went to
    // the page when the button was disabled during the load).
    const downgrade = page.getByRole("button", { name: "Downgrade to Starter" });
    await downgrade.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog").waitFor();
    await page.getByRole("dialog").getByRole("checkbox").first().waitFor();
    await screenshot(page, "a11y-web-downgrade-dialog");
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "detached" });
    expect(await downgrade.evaluate((el) => el === document.activeElement)).toBe(true);

    await page.goto(`${stack.baseUrl}/billing`);
    await page.getByRole("button", { name: "Cancel subscription" }).click();
    await page.getByRole("dialog").waitFor();
    await screenshot(page, "a11y-web-cancel-dialog");
    await page.keyboard.press("Escape");
    await page.close();
  });

  it("at 200% zoom (640 pixels wide): the pages of a subscribed customer", async () => {
    const page = await signedIn("pro@a11y.test", { width: 640, height: 800 });
    for (const path of ["/", "/usage", "/billing", "/packages", "/api-keys"]) {
      await visit(page, path, `a11y-web-640${path === "/" ? "-dashboard" : path.replace("/", "-")}`);
      expect(
        await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        ),
        path,
      ).toBe(0);
    }
    await page.close();
  });
});
