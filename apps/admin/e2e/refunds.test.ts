// Refunds and credits from the admin app against the real API and the Stripe emulator: an admin refunds
// part of a customer's paid invoice with a reason, credits the customer's balance, sees both listed and the
// invoice's refunded amount, and the audit log records them. The invoice's PDF (Stripe's `invoice_pdf`, as
// the emulator renders it) is turned into an image with pdf.js in Chromium and checked for what an invoice
// must show: seller, buyer, lines, tax and totals.
import { screenshot, screenshotPdf, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { ADMIN, signIn, subscribedCustomer } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });
await subscribedCustomer(stack, { name: "Refund Clinic", email: "ceo@refund.test", plan: "Pro" });

describe("refunds and credits in the admin app", () => {
  it("refunds part of an invoice and credits the balance with a reason, listed and audit-logged", async () => {
    const page = await signIn(stack, browser, "/customers");
    await page.getByRole("link", { name: "Refund Clinic" }).click();
    await page.getByRole("button", { name: /Refund or credit/ }).click();
    const form = page.getByRole("form", { name: /Refund or credit invoice/ });
    await form.getByLabel(/Reason/).fill("Calls dropped during the outage on 3 Dec");
    await form.getByLabel("Amount (USD)").fill("0");
    await form.getByRole("button", { name: "Refund", exact: true }).click();
    await expect.poll(() => form.getByRole("alert").textContent()).toMatch(/above 0/);
    // More than was paid: the API refuses it, naming the amount, and nothing is refunded.
    await form.getByLabel("Amount (USD)").fill("100.00");
    await form.getByRole("button", { name: "Refund", exact: true }).click();
    await expect.poll(() => form.getByRole("alert").textContent()).toMatch(/At most \$?99\.00|99\.00 USD/);
    await form.getByLabel("Amount (USD)").fill("25.00");
    await screenshot(page, "admin-refund-form");
    await form.getByRole("button", { name: "Refund", exact: true }).click();
    const list = page.getByTestId("adjustments");
    await expect.poll(() => list.textContent()).toMatch(/Refund\$25\.00.*Calls dropped during the outage/);
    await expect.poll(() => page.getByText("$25.00 refunded").count()).toBe(1);

    const credit = page.getByRole("form", { name: "Credit the customer's balance" });
    await credit.getByLabel("Balance credit (USD)").fill("10");
    await credit.getByLabel(/Reason/).fill("Sorry for the wait");
    await credit.getByRole("button", { name: "Credit balance" }).click();
    await expect.poll(() => list.textContent()).toMatch(/Balance credit\$10\.00/);
    await screenshot(page, "admin-refunds-and-credits");

    const actions = (await db.auditLog.findMany()).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["invoice.refund", "account.balance_credit"]));
    const rows = await db.invoiceAdjustment.findMany({ orderBy: { kind: "asc" } });
    expect(rows.map((r) => [r.kind, r.status, r.amountCents])).toEqual([
      ["refund", "succeeded", 2500],
      ["balance_credit", "succeeded", 1000],
    ]);
  });

  it("links the invoice's PDF, which shows seller, buyer, lines, tax, totals and the refund", async () => {
    const invoice = await db.billingHistory.findFirstOrThrow({
      where: { account: { name: "Refund Clinic" } },
    });
    expect(invoice.invoicePdfUrl).toMatch(/\/pdf$/);
    const response = await fetch(invoice.invoicePdfUrl ?? "");
    expect(response.headers.get("content-type")).toBe("application/pdf");
    const { text } = await screenshotPdf(browser, Buffer.from(await response.arrayBuffer()), "invoice-pdf");
    for (const expected of [
      `Invoice ${invoice.number}`,
      "From",
      "Bill to",
      "Refund Clinic",
      "ceo@refund.test",
      "Pro",
      "Subtotal",
      "Tax",
      "Total",
      "Amount paid",
      "Refunded",
    ]) {
      expect(text, expected).toContain(expected);
    }
  });
});
