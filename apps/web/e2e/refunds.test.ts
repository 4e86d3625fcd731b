// What the customer sees of refunds and credits, and the invoice documents: an admin refunds part of the
// first invoice (REST), a refund made directly at Stripe (its dashboard) arrives by webhook, and the Billing
// page shows both on the invoice and in "Refunds and credits"; the invoice's PDF link is the account's own
// invoice document, rendered to an image with pdf.js in Chromium and looked at. The built SPA, the real API
// and the Stripe emulator, for real.
import { createStripeClient } from "@minutely/api";
import { screenshot, screenshotPdf, testBrowser, testStack, userWithAccount } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { signUpAndPay } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const stripe = createStripeClient({ secretKey: "sk_test_refunds_e2e", apiBase: stack.stripeApiBase });
const db = stack.database.db;

describe("refunds and credits on the customer's Billing page", () => {
  it("shows an admin's refund and one made in Stripe on the invoice and in the list, with the PDF", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signUpAndPay(stack, page, { name: "Rita Refund", email: "rita@example.com" }, "Pro");
    const accountId = (await userWithAccount(db, { email: "rita@example.com" })).accountId ?? "";
    const invoice = await db.billingHistory.findFirstOrThrow({ where: { accountId } });
    const admin = await stack.createUser({ email: "ops@refunds.test", password: "admin-password-1" });
    await db.user.update({ where: { id: admin.userId }, data: { role: "admin" } });
    const refund = await fetch(`${stack.baseUrl}/api/admin/customers/${accountId}/adjustments`, {
      method: "POST",
      headers: {
        cookie: admin.cookie,
        origin: stack.baseUrl,
        "content-type": "application/json",
        "idempotency-key": "e2e-refund-0001",
      },
      body: JSON.stringify({
        type: "refund",
        invoice_id: invoice.id,
        amount_cents: 1500,
        reason: "Two calls dropped on 3 Dec",
      }),
    });
    expect(refund.status, await refund.clone().text()).toBe(200);
    // A refund made in Stripe's dashboard: only the webhook (charge.refunded) tells Minutely.
    await stripe.refunds.create({ payment_intent: invoice.stripePaymentIntentId ?? "", amount: 500 });
    await expect
      .poll(
        async () => (await db.billingHistory.findUniqueOrThrow({ where: { id: invoice.id } })).refundedCents,
        {
          timeout: 20_000,
        },
      )
      .toBe(2000);

    await page.goto(`${stack.baseUrl}/billing`);
    const table = page.getByRole("table", { name: "Invoices" });
    await expect.poll(() => table.textContent()).toContain("refunded $20.00");
    const credits = page.getByRole("list", { name: "Refunds and credits" });
    await expect.poll(() => credits.textContent()).toContain("Two calls dropped on 3 Dec");
    expect(await credits.locator("li").count()).toBe(2);
    await screenshot(page, "billing-refunds-and-credits");

    const pdfLink = table.getByRole("link", { name: /^PDF/ });
    const href = (await pdfLink.getAttribute("href")) ?? "";
    expect(href).toBe(invoice.invoicePdfUrl);
    const pdf = Buffer.from(await (await fetch(href)).arrayBuffer());
    const { text } = await screenshotPdf(browser, pdf, "billing-invoice-pdf");
    for (const expected of [
      "Rita Refund",
      "rita@example.com",
      "Pro",
      "Total",
      "Amount paid",
      "Refunded",
      "-$20.00",
    ]) {
      expect(text, expected).toContain(expected);
    }
  });
});
