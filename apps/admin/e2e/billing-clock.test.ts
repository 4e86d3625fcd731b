// The billing clock in Chromium against the real API and the Stripe emulator: a customer subscribes
// through the real API (their Stripe customer gets a test clock); the admin moves that clock past the
// renewal and the new invoice appears, then gives the customer a declining card and watches the next
// renewal fail (past due, with the payment-failed mail in the outbox), then recovers with a working card.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, horizontalOverflow, signIn, subscribedCustomer, waitFor } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });
const customer = await subscribedCustomer(stack, {
  name: "Timely Vets",
  email: "tim@timely-vets.test",
  plan: "Pro",
});

function invoiceRows(page: Page) {
  return page.getByRole("region", { name: "Latest invoices" }).locator("tbody tr");
}

async function openClock(page: Page) {
  await page.getByRole("heading", { name: "Billing clock", level: 1 }).waitFor();
  await page.getByRole("link", { name: /Timely Vets/ }).click();
  await page.getByRole("heading", { name: "Timely Vets", level: 2 }).waitFor();
  await invoiceRows(page).first().waitFor();
}

describe("admin billing clock", () => {
  it("advances a subscribed account's clock into its renewal: a new paid invoice appears", async () => {
    const page = await signIn(stack, browser, "/billing-clock");
    await openClock(page);
    expect(new URL(page.url()).searchParams.get("account")).toBe(customer.accountId);
    const before = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
    expect(await invoiceRows(page).count()).toBe(1);
    expect(await invoiceRows(page).first().textContent()).toContain("First payment");
    await screenshot(page, "admin-billing-clock");

    await page.getByRole("button", { name: /Past the renewal/ }).click();
    await page.getByText("Stripe's clock is now").waitFor();
    await page.getByText("1 new invoice: Renewal $99.00 paid.").waitFor();
    expect(await invoiceRows(page).count()).toBe(2);
    const renewal = await invoiceRows(page).first().textContent();
    expect(renewal).toContain("Renewal");
    expect(renewal).toContain("paid");
    expect(renewal).toContain("$99.00");

    const after = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
    expect(after.currentPeriodStart).toEqual(before.currentPeriodEnd);
    expect(after.status).toBe("active");
    const invoices = await db.billingHistory.findMany({
      where: { accountId: customer.accountId },
      orderBy: { issuedAt: "asc" },
    });
    expect(invoices.map((i) => [i.billingReason, i.status, i.totalCents])).toEqual([
      ["subscription_create", "paid", 9900],
      ["subscription_cycle", "paid", 9900],
    ]);
    const audit = await db.auditLog.findFirstOrThrow({ where: { action: "billing_clock.advance" } });
    expect(audit).toMatchObject({
      actorEmail: ADMIN.email,
      entityType: "account",
      entityId: customer.accountId,
    });
    await screenshot(page, "admin-billing-clock-renewed");
  });

  it("with a declining card the next renewal fails; a working card pays it", async () => {
    const page = await signIn(stack, browser, `/billing-clock?account=${customer.accountId}`);
    await page.getByRole("heading", { name: "Timely Vets", level: 2 }).waitFor();
    await page.getByRole("button", { name: "Make payments fail" }).click();
    await page.getByText("every charge is declined").waitFor();

    await page.getByRole("button", { name: /Past the renewal/ }).click();
    await page.getByText("1 new invoice: Renewal $99.00 open.").waitFor();
    await page.getByText("The subscription is now Past due on Pro.").waitFor();
    expect(await page.getByRole("region", { name: "Timely Vets", exact: true }).textContent()).toContain(
      "Past due",
    );
    // Stripe's invoice.payment_failed webhook reaches the worker, which mails the customer.
    const mail = await waitFor(stack, "the payment-failed mail", () =>
      db.mailMessage.findFirst({
        where: { to: "tim@timely-vets.test", subject: "Your Minutely payment failed" },
      }),
    );
    expect(mail.text).toContain("Update your card");
    await screenshot(page, "admin-billing-clock-failed");

    await page.getByRole("button", { name: "Use a working card" }).click();
    await page.getByText("Payments succeed again; open invoices were paid with the new card.").waitFor();
    expect(await invoiceRows(page).first().textContent()).toContain("paid");
    expect(await page.getByRole("region", { name: "Timely Vets", exact: true }).textContent()).toContain(
      "Active",
    );
    expect(
      (await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } })).status,
    ).toBe("active");
  });

  it("refuses a moment before the clock's time, next to the field", async () => {
    const page = await signIn(stack, browser, `/billing-clock?account=${customer.accountId}`);
    await page.getByRole("heading", { name: "Timely Vets", level: 2 }).waitFor();
    const field = page.getByLabel("Or to a moment of your choice (UTC)");
    await field.fill("2020-01-01T00:00");
    await page.getByRole("button", { name: "Advance", exact: true }).click();
    await page.getByText("Choose a moment after the clock's current time.").waitFor();
    expect(await field.getAttribute("aria-invalid")).toBe("true");
  });

  it("fits a phone", async () => {
    const page = await signIn(stack, browser, `/billing-clock?account=${customer.accountId}`, {
      viewport: { width: 390, height: 844 },
    });
    await page.getByRole("heading", { name: "Timely Vets", level: 2 }).waitFor();
    await invoiceRows(page).first().waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, "admin-billing-clock-phone");
  });
});
