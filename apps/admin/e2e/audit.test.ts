// The audit log in Chromium against the real API: a second admin archives and restores a package through
// the admin API (real entries, today); older entries by both admins are inserted with known dates. The
// page filters by admin, entity and UTC date range.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, horizontalOverflow, packageId, signIn } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
const ops = await stack.createUser({ ...ADMIN, role: "admin" });
const finance = await stack.createUser({
  email: "finance@example.com",
  password: "admin-password-2",
  role: "admin",
});
const customer = await stack.createUser({
  email: "cust@clinic.test",
  password: "customer-password-1",
  name: "Audited Clinic",
});

async function adminCall(cookie: string, path: string, input: unknown) {
  const response = await fetch(`${stack.baseUrl}/trpc/admin/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, origin: stack.baseUrl },
    body: JSON.stringify({ json: input }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

const starter = await packageId(stack, "Starter");
await adminCall(finance.cookie, "packages.archive", { id: starter });
await adminCall(finance.cookie, "packages.unarchive", { id: starter });

async function entry(
  actor: { userId: string },
  email: string,
  at: string,
  entityType: string,
  entityId: string,
) {
  await db.auditLog.create({
    data: {
      actorUserId: actor.userId,
      actorEmail: email,
      action: `${entityType}.seeded`,
      entityType,
      entityId,
      before: { note: `before ${at}` },
      after: { note: `after ${at}` },
      createdAt: new Date(at),
    },
  });
}
await entry(ops, ADMIN.email, "2026-10-01T10:00:00Z", "account", customer.accountId);
await entry(finance, "finance@example.com", "2026-10-15T23:30:00Z", "stripe_event", "evt_old_replay");
await entry(ops, ADMIN.email, "2026-10-16T00:10:00Z", "account", customer.accountId);

function actions(page: Page) {
  return page
    .locator("tbody > tr[data-action]")
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.action));
}

async function waitForRows(page: Page, count: number) {
  await page.waitForFunction((n) => document.querySelectorAll("tbody > tr[data-action]").length === n, count);
}

describe("admin audit log", () => {
  it("lists admin actions newest first, real ones included, with before and after", async () => {
    const page = await signIn(stack, browser, "/audit");
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await waitForRows(page, 5);
    expect(await actions(page)).toEqual([
      "package.unarchive",
      "package.archive",
      "account.seeded",
      "stripe_event.seeded",
      "account.seeded",
    ]);
    const archive = page.locator('tbody > tr[data-action="package.archive"]');
    expect(await archive.textContent()).toContain("finance@example.com");
    // The change in short: the fields that moved.
    expect(await archive.locator("li").first().textContent()).toBe("active: true → false");
    await archive.getByText("Before and after").click();
    const json = await archive.locator("pre").allTextContents();
    expect(JSON.parse(json[0] ?? "{}")).toMatchObject({ name: "Starter", active: true });
    expect(JSON.parse(json[1] ?? "{}")).toMatchObject({ name: "Starter", active: false });
    await screenshot(page, "admin-audit");
  });

  it("filters by admin, by entity and by UTC date range", async () => {
    const page = await signIn(stack, browser, "/audit");
    await waitForRows(page, 5);
    await page.getByRole("combobox", { name: "Admin" }).selectOption({ label: "finance@example.com" });
    await waitForRows(page, 3);
    expect(await actions(page)).toEqual(["package.unarchive", "package.archive", "stripe_event.seeded"]);
    expect(new URL(page.url()).searchParams.get("actor")).toBe(finance.userId);

    await page.getByRole("combobox", { name: "Admin" }).selectOption("");
    await page.getByLabel("Entity").selectOption({ label: "Customer account" });
    await waitForRows(page, 2);
    expect(await actions(page)).toEqual(["account.seeded", "account.seeded"]);

    await page.getByLabel("Entity").selectOption("");
    await page.getByLabel("From").fill("2026-10-01");
    await page.getByLabel("To").fill("2026-10-15");
    await waitForRows(page, 2);
    // 15 October ends at midnight UTC: 23:30 is in, 00:10 on the 16th is not.
    expect(await actions(page)).toEqual(["stripe_event.seeded", "account.seeded"]);
    await screenshot(page, "admin-audit-filtered");

    await page.getByRole("button", { name: "Clear filters" }).click();
    await waitForRows(page, 5);
    await page.getByLabel("From").fill("2030-01-01");
    await page.getByText("No entries match these filters").waitFor();
  });

  it("opens a customer's entries from their page and links back to the customer", async () => {
    const page = await signIn(stack, browser, `/customers/${customer.accountId}`);
    await page.getByRole("heading", { name: "Audited Clinic", level: 1 }).waitFor();
    await page.getByRole("link", { name: "Audit log" }).last().click();
    await page.getByText(`Only entries about ${customer.accountId}.`).waitFor();
    await waitForRows(page, 2);
    await page
      .locator("tbody > tr[data-action]")
      .first()
      .getByRole("link", { name: customer.accountId })
      .click();
    await page.getByRole("heading", { name: "Audited Clinic", level: 1 }).waitFor();
  });

  it("fits a phone", async () => {
    const page = await signIn(stack, browser, "/audit", { viewport: { width: 390, height: 844 } });
    await waitForRows(page, 5);
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, "admin-audit-phone");
  });
});
