// Issue 28: the admin app's page states, each checked by axe-core (every `screenshot` runs it and fails on
// any violation): signed out and with errors, every page with data, a form with errors, dialogs open, and
// 200% zoom (640 pixels wide), where wide tables and JSON payloads scroll inside regions the keyboard reaches.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, createAgent, reportCalls, signIn, subscribedCustomer, waitFor } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });
const customer = await subscribedCustomer(stack, {
  name: "Axe Dental",
  email: "ann@axe-dental.test",
  plan: "Pro",
});
const agentId = await createAgent(stack, customer.cookie, "Reception");
await reportCalls(stack, customer.accountId, [1200, 1200, 150], { agentId });
const event = await waitFor(stack, "a processed webhook event", () =>
  db.stripeEvent.findFirst({ where: { status: "processed" }, orderBy: { receivedAt: "asc" } }),
);

const PAGES: [string, string][] = [
  ["/", "Overview"],
  ["/packages", "Packages"],
  ["/packages/new", "New package"],
  ["/coupons", "Coupons"],
  ["/customers", "Customers"],
  [`/customers/${customer.accountId}`, "Axe Dental"],
  ["/revenue", "Revenue"],
  ["/usage", "Usage"],
  ["/webhooks", "Webhook events"],
  [`/webhooks/${event.id}`, event.type],
  ["/jobs", "Failed jobs"],
  ["/audit", "Audit log"],
  [`/billing-clock?account=${customer.accountId}`, "Billing clock"],
];

async function visit(page: Page, path: string, name: string) {
  await page.goto(`${stack.baseUrl}/admin${path}`);
  await page.getByRole("main").waitFor();
  await page.getByRole("heading", { level: 1 }).first().waitFor();
  await page.waitForLoadState("networkidle");
  await screenshot(page, name);
}

function slug(path: string): string {
  return (
    path
      .split("?")[0]
      ?.replace(/[^a-z]+/gi, "-")
      .replace(/^-|-$/g, "") || "overview"
  );
}

describe("admin app accessibility (axe-core on every state)", () => {
  it("signed out: the sign-in page, and with a wrong password", async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.baseUrl}/admin/`);
    await page.getByRole("heading", { name: "Admin sign in" }).waitFor();
    await screenshot(page, "a11y-admin-sign-in");
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").first().waitFor();
    await screenshot(page, "a11y-admin-sign-in-error");
    await page.close();
  });

  it("every page with data", async () => {
    const page = await signIn(stack, browser, "/", { viewport: { width: 1280, height: 900 } });
    for (const [path] of PAGES) await visit(page, path, `a11y-admin-${slug(path)}`);
    await page.close();
  });

  it("the package form with errors, and a confirmation dialog open", async () => {
    const page = await signIn(stack, browser, "/packages/new");
    await page.getByLabel("Call minutes included").fill("-5");
    await page.getByRole("button", { name: "Create package" }).click();
    await page.getByRole("alert").first().waitFor();
    await screenshot(page, "a11y-admin-package-form-errors");

    await page.goto(`${stack.baseUrl}/admin/packages`);
    const starter = page.locator('tr[data-package="Starter"]');
    await starter.getByRole("button", { name: /^Archive/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    expect(await dialog.getAttribute("aria-modal")).toBe("true");
    await screenshot(page, "a11y-admin-archive-dialog");
    await page.keyboard.press("Escape");
    await page.close();
  });

  it("at 200% zoom (640 pixels wide): wide tables and payloads scroll in regions the keyboard reaches", async () => {
    const page = await signIn(stack, browser, "/", { viewport: { width: 640, height: 800 } });
    for (const [path] of PAGES) {
      await visit(page, path, `a11y-admin-640-${slug(path)}`);
      expect(
        await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        ),
        path,
      ).toBe(0);
    }

    // The payload of a webhook event: Tab reaches its region, and the arrow keys scroll it.
    await page.goto(`${stack.baseUrl}/admin/webhooks/${event.id}`);
    const payload = page.getByRole("region", { name: "Event payload (JSON)" });
    await payload.waitFor();
    expect(await payload.getAttribute("tabindex")).toBe("0");
    await payload.focus();
    await page.keyboard.press("PageDown");
    await waitFor(stack, "the payload to scroll", () => payload.evaluate((el) => el.scrollTop > 0));
    await page.close();
  });
});
