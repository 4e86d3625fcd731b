// Package management in the admin app, driven in Chromium against the real API, a fresh database and the
// Stripe emulator. The tests share one database and run in order: Scale is created first, Pro is repriced,
// Starter is archived and restored, Enterprise is moved.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;

const ADMIN = { email: "ops@example.com", password: "admin-password-1" };
const admin = await stack.createUser({ ...ADMIN, role: "admin" });

/** Reads Stripe's side through its API (the emulator accepts any test key). */
async function stripeGet<T>(path: string): Promise<T> {
  const response = await fetch(`${stack.stripeApiBase}${path}`, {
    headers: { authorization: "Bearer sk_test_minutely_dev" },
  });
  expect(response.status, `GET ${path}`).toBe(200);
  return (await response.json()) as T;
}

async function waitForStripePrice(name: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name } });
    if (plan.stripePriceId) return plan;
    if (Date.now() > deadline) throw new Error(`${name} got no Stripe price within 30 s:\n${stack.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function openPackages(viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage(viewport ? { viewport } : {});
  await page.goto(`${stack.baseUrl}/admin/packages`);
  await page.getByRole("heading", { name: "Admin sign in" }).waitFor();
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Packages", exact: true }).waitFor();
  await page.locator("tbody > tr[data-package]").first().waitFor();
  return page;
}

function row(page: Page, name: string) {
  return page.locator(`tbody > tr[data-package="${name}"]`);
}

function packageOrder(page: Page): Promise<(string | undefined)[]> {
  return page
    .locator("tbody > tr[data-package]")
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.package));
}

async function isFocused(locator: ReturnType<Page["locator"]>): Promise<boolean> {
  return await locator.evaluate((element) => element === document.activeElement);
}

/** The message a field shows, read through its aria-describedby like assistive technology does. */
async function describedBy(page: Page, label: string): Promise<string | null> {
  const field = page.getByLabel(label, { exact: true });
  const id = await field.getAttribute("aria-describedby");
  return id ? await page.locator(`[id="${id}"]`).textContent() : null;
}

describe("admin packages", () => {
  it("creates a package, synced to Stripe as a product with a monthly price", async () => {
    const page = await openPackages();
    await page.getByRole("link", { name: "New package" }).click();
    await page.getByRole("heading", { name: "New package" }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Scale");
    await page.getByLabel("Description").fill("For scaling teams: 6,000 minutes, 12 agents and analytics.");
    await page.getByLabel("Price per month").fill("199.00");
    await page.getByLabel("Call minutes included").fill("6000");
    await page.getByLabel("Agents allowed").fill("12");
    await page.getByLabel("Analytics access").check();
    await page.getByLabel("Hard cap (no overage)").uncheck();
    await page.getByLabel("Overage price per minute (cents)").fill("2");
    // Priced in EUR too (not in GBP: left empty).
    await page.getByLabel("Monthly price in EUR").fill("189.00");
    await page.getByLabel("Overage in EUR (cents a minute)").fill("2");
    expect(await describedBy(page, "Price per month")).toBe("Customers pay $199.00 a month.");
    await page.getByRole("button", { name: "Create package" }).click();

    await page.getByText("Created Scale.").waitFor();
    expect(new URL(page.url()).pathname).toBe("/admin/packages");
    const scale = row(page, "Scale");
    const text = await scale.textContent();
    for (const shown of ["$199.00/mo", "6,000", "12", "$0.02/min", "Active", "Synced"]) {
      expect(text).toContain(shown);
    }
    expect(text).not.toContain("Not synced");
    expect(await packageOrder(page)).toEqual(["Starter", "Pro", "Enterprise", "Scale"]);

    const plan = await db.subscriptionPlan.findUniqueOrThrow({
      where: { name: "Scale" },
      include: { prices: true, currencyPrices: { orderBy: { currency: "asc" } } },
    });
    expect(plan.currencyPrices.map((p) => [p.currency, p.amountCents, p.overagePriceCentsPerMinute])).toEqual(
      [
        ["eur", 18900, 2],
        ["usd", 19900, 2],
      ],
    );
    expect(plan).toMatchObject({
      monthlyPriceCents: 19900,
      currency: "usd",
      callMinutesLimit: 6000,
      agentsAllowed: 12,
      analyticsAccess: true,
      apiAccess: false,
      overagePriceCentsPerMinute: 2,
      recommended: false,
      active: true,
    });
    expect(plan.stripeProductId).toMatch(/^prod_/);
    expect(plan.stripePriceId).toMatch(/^price_/);
    expect(plan.prices.filter((p) => p.currency === "usd")).toEqual([
      expect.objectContaining({ stripePriceId: plan.stripePriceId, amountCents: 19900, current: true }),
    ]);
    expect(plan.prices.filter((p) => p.currency === "eur")).toEqual([
      expect.objectContaining({ amountCents: 18900, current: true }),
    ]);
    const price = await stripeGet<{
      unit_amount: number;
      currency: string;
      product: string;
      recurring: { interval: string };
    }>(`/v1/prices/${plan.stripePriceId}`);
    expect(price).toMatchObject({
      unit_amount: 19900,
      currency: "usd",
      product: plan.stripeProductId,
      recurring: { interval: "month" },
    });

    await scale.getByRole("button", { name: "Prices (2) of Scale", exact: true }).click();
    const details = page.getByRole("region", { name: "Stripe prices for Scale" });
    const detailsText = await details.textContent();
    expect(detailsText).toContain(plan.stripeProductId);
    expect(detailsText).toContain(plan.stripePriceId);
    expect(await details.locator("tbody tr").count()).toBe(2);
    expect(await details.locator("tbody tr").first().textContent()).toContain("Current");
    await screenshot(page, "admin-packages-list");
  });

  it("shows client and server validation errors next to their fields and creates nothing", async () => {
    const page = await openPackages();
    await page.getByRole("link", { name: "New package" }).click();
    await page.getByLabel("Price per month").fill("9.999");
    await page.getByRole("button", { name: "Create package" }).click();
    expect(await describedBy(page, "Name")).toBe("Name is required");
    expect(await describedBy(page, "Price per month")).toBe("Use at most 2 decimal places (whole cents)");
    expect(await describedBy(page, "Call minutes included")).toBe("Enter the included minutes, e.g. 1000");
    expect(await page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    await screenshot(page, "admin-package-form-client-errors");

    // Numbers out of range: each field says what is wrong with it, as the server would.
    await page.getByLabel("Price per month").fill("-1");
    await page.getByLabel("Call minutes included").fill("-5");
    await page.getByLabel("Agents allowed").fill("0");
    await page.getByLabel("Hard cap (no overage)").uncheck();
    await page.getByLabel("Overage price per minute (cents)").fill("-2");
    await page.getByRole("button", { name: "Create package" }).click();
    expect(await describedBy(page, "Price per month")).toBe("The monthly price must be 0 or more");
    expect(await describedBy(page, "Call minutes included")).toBe("Included minutes must be 0 or more");
    expect(await describedBy(page, "Agents allowed")).toBe("Agents allowed must be at least 1");
    expect(await describedBy(page, "Overage price per minute (cents)")).toBe(
      "The overage price must be 0 or more",
    );
    await screenshot(page, "admin-package-form-range-errors");
    await page.getByLabel("Call minutes included").fill("100,000,001");
    await page.getByLabel("Agents allowed").fill("100001");
    await page.getByLabel("Overage price per minute (cents)").fill("100001");
    await page.getByRole("button", { name: "Create package" }).click();
    expect(await describedBy(page, "Call minutes included")).toBe(
      "Included minutes can be at most 100,000,000",
    );
    expect(await describedBy(page, "Agents allowed")).toBe("Agents allowed can be at most 100,000");
    expect(await describedBy(page, "Overage price per minute (cents)")).toBe(
      "The overage price can be at most 100,000 cents a minute",
    );
    await page.getByLabel("Agents allowed").fill("1");
    await page.getByLabel("Hard cap (no overage)").check();

    const before = await db.subscriptionPlan.count();
    await page.getByLabel("Name", { exact: true }).fill("Pro");
    await page.getByLabel("Price per month").fill("49.00");
    await page.getByLabel("Call minutes included").fill("500");
    await page.getByRole("button", { name: "Create package" }).click();

    // Only the server knows Pro exists: its CONFLICT lands under Name, which gets focus.
    await page.getByText('A package named "Pro" already exists', { exact: true }).waitFor();
    const name = page.getByLabel("Name", { exact: true });
    expect(await describedBy(page, "Name")).toBe('A package named "Pro" already exists');
    expect(await name.getAttribute("aria-invalid")).toBe("true");
    expect(await isFocused(name)).toBe(true);
    expect(await page.getByRole("button", { name: "Create package" }).isEnabled()).toBe(true);
    expect(new URL(page.url()).pathname).toBe("/admin/packages/new");
    expect(await db.subscriptionPlan.count()).toBe(before);
    expect(await db.subscriptionPlan.count({ where: { name: { equals: "pro", mode: "insensitive" } } })).toBe(
      1,
    );
    await screenshot(page, "admin-package-form-errors");
  });

  it("repricing Pro adds a Stripe price; its subscriber stays on the old one", async () => {
    // The API syncs the seeded catalog to Stripe when it starts: Pro gets its product and $99.00 price.
    const synced = await waitForStripePrice("Pro");
    const oldPriceId = synced.stripePriceId;
    expect(oldPriceId).toMatch(/^price_/);
    await db.subscription.create({
      data: {
        accountId: admin.accountId,
        stripeSubscriptionId: "sub_existing_pro_customer",
        planId: synced.id,
        stripePriceId: oldPriceId ?? "",
        status: "active",
        currentPeriodStart: new Date(),
        currentPeriodEnd: new Date(Date.now() + 30 * 86_400_000),
      },
    });
    const page = await openPackages();
    const pro = row(page, "Pro");
    expect(await pro.textContent()).toContain("Synced");
    await pro.getByRole("link", { name: "Edit Pro", exact: true }).click();
    await page.getByRole("heading", { name: "Edit Pro" }).waitFor();
    const price = page.getByLabel("Price per month");
    expect(await price.inputValue()).toBe("99.00");
    await price.fill("109.00");
    await page.getByText("Saving creates a new Stripe price of $109.00 for new subscribers").waitFor();
    await page.getByText("The current subscriber keeps their price until they change plan.").waitFor();
    await screenshot(page, "admin-package-edit-price-change");
    await page.getByRole("button", { name: "Save changes" }).click();

    await page.getByText("Saved Pro.").waitFor();
    const text = await pro.textContent();
    expect(text).toContain("$109.00/mo");
    expect(text).toContain("Synced");
    expect(text).not.toContain("Not synced");
    // Two USD prices, and the EUR and GBP ones the seed gives Pro.
    await pro.getByRole("button", { name: "Prices (4) of Pro", exact: true }).click();
    const history = page.getByRole("region", { name: "Stripe prices for Pro" });
    const lines = await history
      .locator("tbody tr")
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll("td")].slice(0, 4).map((td) => td.textContent)),
      );
    const updated = await db.subscriptionPlan.findUniqueOrThrow({
      where: { name: "Pro" },
      include: { prices: { orderBy: { createdAt: "asc" } } },
    });
    expect(updated.stripePriceId).not.toBe(oldPriceId);
    expect(lines.filter((l) => l[0]?.startsWith("$"))).toEqual([
      ["$109.00/mo", "Current", "0", updated.stripePriceId],
      ["$99.00/mo", "Previous", "1", oldPriceId],
    ]);
    expect(updated.prices.filter((p) => p.currency === "usd").map((p) => [p.amountCents, p.current])).toEqual(
      [
        [9900, false],
        [10900, true],
      ],
    );
    const subscription = await db.subscription.findUniqueOrThrow({
      where: { stripeSubscriptionId: "sub_existing_pro_customer" },
    });
    expect(subscription.stripePriceId).toBe(oldPriceId);
    await history.scrollIntoViewIfNeeded();
    await screenshot(page, "admin-package-price-history");
  });

  it("archives a package after confirmation and unarchives it", async () => {
    const page = await openPackages();
    const starter = row(page, "Starter");
    const archiveButton = starter.getByRole("button", { name: "Archive Starter", exact: true });

    await archiveButton.click();
    const dialog = page.getByRole("dialog", { name: "Archive Starter?" });
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await starter.textContent()).toContain("Active");

    await archiveButton.click();
    await dialog.waitFor();
    const explanation = await dialog.textContent();
    expect(explanation).toContain("Customers can no longer choose Starter");
    expect(explanation).toContain("Existing subscribers keep it");
    expect(await isFocused(dialog.getByRole("button", { name: "Cancel" }))).toBe(true);
    await screenshot(page, "admin-package-archive-dialog");
    await dialog.getByRole("button", { name: "Archive package" }).click();
    await dialog.waitFor({ state: "hidden" });

    await starter.getByText("Archived", { exact: true }).waitFor();
    await page.getByText("Starter is archived: customers can no longer choose it.").waitFor();
    const unarchiveButton = starter.getByRole("button", { name: "Unarchive Starter", exact: true });
    expect(await isFocused(unarchiveButton)).toBe(true);
    const archived = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    expect(archived.active).toBe(false);
    const product = await stripeGet<{ active: boolean }>(`/v1/products/${archived.stripeProductId}`);
    expect(product.active).toBe(false);

    await unarchiveButton.click();
    await starter.getByText("Active", { exact: true }).waitFor();
    await page.getByText("Starter is active again").waitFor();
    expect((await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } })).active).toBe(true);
  });

  it("moves Enterprise up and keeps the order after a reload", async () => {
    const page = await openPackages();
    expect(await packageOrder(page)).toEqual(["Starter", "Pro", "Enterprise", "Scale"]);
    const up = page.getByRole("button", { name: "Move Enterprise up", exact: true });
    await up.click();
    await page.getByText("Enterprise moved to position 2 of 4.").waitFor({ state: "attached" });
    expect(await packageOrder(page)).toEqual(["Starter", "Enterprise", "Pro", "Scale"]);
    expect(await isFocused(up)).toBe(true);

    await page.reload();
    await row(page, "Enterprise").waitFor();
    expect(await packageOrder(page)).toEqual(["Starter", "Enterprise", "Pro", "Scale"]);
    const rows = await db.subscriptionPlan.findMany({
      orderBy: { sortOrder: "asc" },
      select: { name: true },
    });
    expect(rows.map((r) => r.name)).toEqual(["Starter", "Enterprise", "Pro", "Scale"]);

    // At the top, "Move up" is disabled: focus moves to "Move down" instead of being lost.
    await up.click();
    await page.getByText("Enterprise moved to position 1 of 4.").waitFor({ state: "attached" });
    expect(await up.isDisabled()).toBe(true);
    expect(await isFocused(page.getByRole("button", { name: "Move Enterprise down", exact: true }))).toBe(
      true,
    );
    await page.keyboard.press("Enter");
    await page.getByText("Enterprise moved to position 2 of 4.").waitFor({ state: "attached" });
    expect(await packageOrder(page)).toEqual(["Starter", "Enterprise", "Pro", "Scale"]);
  });

  it("warns when a save reaches the database but not Stripe, and Retry syncs it", async () => {
    const fault = await fetch(`${stack.stripeApiBase}/_emulator/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method: "POST", path: "/v1/prices", status: 400, count: 1 }),
    });
    expect(fault.status).toBe(200);

    const page = await openPackages();
    await row(page, "Scale").getByRole("link", { name: "Edit Scale", exact: true }).click();
    await page.getByLabel("Price per month").fill("219.00");
    await page.getByRole("button", { name: "Save changes" }).click();

    await page.getByText("Scale is saved, but it is not synced to Stripe").waitFor();
    const warning = page.getByRole("status").filter({ hasText: "not synced to Stripe" });
    expect(await warning.textContent()).toContain("use Retry in the Stripe column");
    expect(await warning.textContent()).not.toContain("..");
    const scale = row(page, "Scale");
    expect(await scale.textContent()).toContain("$219.00/mo");
    expect(await scale.textContent()).toContain("Not synced");
    await screenshot(page, "admin-package-sync-warning");

    await scale.getByRole("button", { name: "Retry Stripe sync of Scale", exact: true }).click();
    await scale.getByText("Synced", { exact: true }).waitFor();
    const plan = await db.subscriptionPlan.findUniqueOrThrow({
      where: { name: "Scale" },
      include: { prices: true },
    });
    expect(plan.prices.find((p) => p.current && p.currency === "usd")?.amountCents).toBe(21900);
    // Its two USD prices and the EUR one it was created with.
    expect(plan.prices).toHaveLength(3);
  });

  it("fits a phone screen: the table scrolls inside its box, the form stacks", async () => {
    const page = await openPackages({ width: 390, height: 844 });
    const overflow = () =>
      page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBe(0);
    await screenshot(page, "admin-packages-phone");

    await page.getByRole("link", { name: "New package" }).click();
    await page.getByRole("button", { name: "Create package" }).click();
    await page.getByText("Name is required", { exact: true }).waitFor();
    expect(await overflow()).toBe(0);
    await screenshot(page, "admin-package-form-phone");
  });
});
