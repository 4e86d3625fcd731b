// The customer list and detail in Chromium against the real API, a fresh database and the Stripe emulator.
// Customers sign up (and two subscribe) through the real API, one reports calls and crosses its 80% alert;
// thirty more accounts are inserted to page through. The admin's own sign-up made an account too ("ops").
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  createAgent,
  horizontalOverflow,
  reportCalls,
  signIn,
  subscribedCustomer,
  waitFor,
} from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });

const dental = await subscribedCustomer(stack, {
  name: "Acme Dental",
  email: "maria@acme-dental.test",
  plan: "Starter",
});
await subscribedCustomer(stack, { name: "Bright Plumbing", email: "li@bright-plumbing.test", plan: "Pro" });
await stack.createUser({ email: "new@nosub.test", password: "customer-password-1", name: "Not Yet Ltd" });
const frontDesk = await createAgent(stack, dental.cookie, "Front desk");
// 850 of Starter's 1,000 minutes: the 80% alert fires (and is mailed).
await reportCalls(stack, dental.accountId, [300, 250, 200, 100], { agentId: frontDesk });
await waitFor(stack, "the 80% alert", () =>
  db.usageAlert.findFirst({ where: { accountId: dental.accountId } }),
);
for (let i = 0; i < 30; i++) {
  await db.account.create({
    data: { name: `Filler ${String(i).padStart(2, "0")}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)) },
  });
}

function row(page: Page, name: string) {
  return page.locator(`tbody > tr[data-account="${name}"]`);
}

async function accountNames(page: Page) {
  return await page
    .locator("tbody > tr[data-account]")
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.account));
}

describe("admin customers", () => {
  it("lists customers newest first with owner, package, status, usage and MRR, 25 a page", async () => {
    const page = await signIn(stack, browser, "/customers");
    await page.getByRole("heading", { name: "Customers", exact: true }).waitFor();
    await row(page, "Acme Dental").waitFor();
    expect((await accountNames(page)).slice(0, 3)).toEqual(["Not Yet Ltd", "Bright Plumbing", "Acme Dental"]);
    expect(await page.locator("tbody > tr[data-account]").count()).toBe(25);
    const cells = await row(page, "Acme Dental").locator("th, td").allTextContents();
    expect(cells[1]).toBe("maria@acme-dental.test");
    expect(cells[2]).toBe("Starter");
    expect(cells[3]).toContain("Active");
    expect(cells[4]).toContain("85%");
    expect(cells[4]).toContain("850 of 1,000 min");
    expect(cells[5]).toBe("—");
    expect(cells[6]).toBe("$29.00");
    expect(await row(page, "Not Yet Ltd").textContent()).toContain("No subscription");
    await page.getByText("Showing 1–25 of 34 customers · page 1 of 2").waitFor();
    await page.getByRole("navigation", { name: "Pages of customers" }).waitFor();
    await screenshot(page, "admin-customers-list");

    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByText("Showing 26–34 of 34 customers · page 2 of 2").waitFor();
    expect(await accountNames(page)).toHaveLength(9);
    expect(new URL(page.url()).searchParams.get("page")).toBe("2");
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
  });

  it("searches by a part of the name or the owner's email, and filters by status", async () => {
    const page = await signIn(stack, browser, "/customers");
    await row(page, "Acme Dental").waitFor();
    const search = page.getByRole("searchbox", { name: "Search customers" });
    await search.fill("plumb");
    await page.getByText("Showing 1–1 of 1 customer").waitFor();
    expect(await accountNames(page)).toEqual(["Bright Plumbing"]);
    expect(new URL(page.url()).searchParams.get("q")).toBe("plumb");

    await search.fill("MARIA@ACME");
    await row(page, "Acme Dental").waitFor();
    await page.getByText("Showing 1–1 of 1 customer").waitFor();
    expect(await accountNames(page)).toEqual(["Acme Dental"]);

    await search.fill("nobody-matches-this");
    await page.getByText("No customers match").waitFor();

    await search.fill("");
    await page.getByLabel("Subscription status").selectOption("none");
    await page.getByText("Showing 1–25 of 32 customers").waitFor();
    await page.getByLabel("Subscription status").selectOption("active");
    await page.getByText("Showing 1–2 of 2 customers").waitFor();
    await row(page, "Acme Dental").waitFor();
    expect(await accountNames(page)).toEqual(["Bright Plumbing", "Acme Dental"]);
    await screenshot(page, "admin-customers-filtered");
  });

  it("shows a customer's subscription, usage by day, invoices, alerts, agents and Stripe ids", async () => {
    const page = await signIn(stack, browser, "/customers?q=acme");
    await row(page, "Acme Dental").getByRole("link", { name: "Acme Dental" }).click();
    await page.getByRole("heading", { name: "Acme Dental", level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/admin/customers/${dental.accountId}`);
    const account = await db.account.findUniqueOrThrow({ where: { id: dental.accountId } });
    const subscription = await db.subscription.findFirstOrThrow({ where: { accountId: dental.accountId } });

    const sub = page.getByRole("region", { name: "Subscription", exact: true });
    const subText = await sub.textContent();
    expect(subText).toContain("Starter · $29.00/mo");
    expect(subText).toContain("MRR contribution$29.00");
    expect(subText).toContain("Renews on");

    const stripe = page.getByRole("region", { name: "Stripe", exact: true });
    const stripeText = await stripe.textContent();
    expect(stripeText).toContain(account.stripeCustomerId ?? "a customer id");
    expect(stripeText).toContain(subscription.stripeSubscriptionId);
    expect(stripeText).toContain(subscription.stripeTestClockId ?? "a test clock id");
    expect(stripeText).toContain("emulator here, which has no dashboard");

    const usage = page.getByRole("region", { name: "Usage", exact: true });
    expect(await usage.textContent()).toContain("850 of 1,000 minutes");
    const chart = usage.getByRole("img");
    expect(await chart.getAttribute("aria-label")).toContain("850 minutes");
    await usage.getByText("Show the numbers").click();
    const today = new Date().toISOString().slice(0, 10);
    const numbers = usage.getByRole("table", {
      name: "Minutes per day this billing period (UTC), as numbers",
    });
    expect(await numbers.locator("tr", { hasText: today }).textContent()).toContain("850");

    const invoices = page.getByRole("region", { name: "Invoices", exact: true });
    const first = invoices.locator("tbody tr").first();
    expect(await first.textContent()).toContain("First payment");
    expect(await first.textContent()).toContain("paid");
    const link = first.getByRole("link", { name: /View/ });
    const invoice = await db.billingHistory.findFirstOrThrow({ where: { accountId: dental.accountId } });
    expect(await link.getAttribute("href")).toBe(invoice.hostedInvoiceUrl);
    expect(invoice.hostedInvoiceUrl).toMatch(/^http/);

    expect(await page.getByRole("region", { name: "Usage alerts", exact: true }).textContent()).toContain(
      "80%",
    );
    expect(
      await page.getByRole("region", { name: "Agents (1 active)", exact: true }).textContent(),
    ).toContain("Front desk");
    expect(await page.getByRole("region", { name: "People", exact: true }).textContent()).toContain(
      "maria@acme-dental.test",
    );
    await screenshot(page, "admin-customer-detail");

    await page.getByRole("link", { name: "← All customers" }).click();
    await page.getByRole("heading", { name: "Customers", exact: true }).waitFor();
  });

  it("says so for an unknown customer", async () => {
    const page = await signIn(stack, browser, "/customers/00000000-0000-4000-8000-000000000000");
    await page.getByText("No such customer").waitFor();
  });

  it("fits a phone: the tables scroll inside their boxes", async () => {
    const phone = { width: 390, height: 844 };
    const page = await signIn(stack, browser, "/customers", { viewport: phone });
    await row(page, "Acme Dental").waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, "admin-customers-phone");
    await page.goto(`${stack.baseUrl}/admin/customers/${dental.accountId}`);
    await page.getByRole("heading", { name: "Acme Dental", level: 1 }).waitFor();
    await page.getByRole("region", { name: "Invoices", exact: true }).locator("tbody tr").first().waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, "admin-customer-detail-phone");
  });
});
