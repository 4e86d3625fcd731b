// What the customer sees of refunds and credits, and the invoice documents: an admin refunds part of the
// first invoice (REST), a refund made directly at Stripe (its dashboard) arrives by webhook, and the Billing
// page shows both on the invoice and in "Refunds and credits"; the invoice's PDF link is the account's own
// invoice document, rendered to an image with pdf.js in Chromium and looked at. The built SPA, the real API
// and the Stripe emulator, for real.
import { createStripeClient } from "@minutely/api";
import { screenshot, screenshotPdf, testBrowser, testStack, userWithAccount } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { PASSWORD, signUpAndPay } from "./helpers.ts";

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

  it("takes the billing address and tax ID, taxes the invoice (UK VAT 20 %) and prints both on the PDF", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`${stack.baseUrl}/sign-up`);
    await page.getByLabel("Name").fill("Tom Tax");
    await page.getByLabel("Email").fill("tom@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();
    // Prices are shown without tax, and say so.
    expect(await page.getByText("/month excl. tax").count()).toBeGreaterThan(0);

    await page.goto(`${stack.baseUrl}/billing`);
    const form = page.getByRole("form", { name: "Billing address and tax ID" });
    await form.getByLabel("Country (two letters)").fill("GB");
    await form.getByLabel("Street address").fill("10 Downing Street");
    await form.getByLabel("City").fill("London");
    await form.getByLabel("Postal code").fill("SW1A 2AA");
    await form.getByLabel("Tax ID (optional)").selectOption("gb_vat");
    // A number that is not one: the field says why, nothing is saved.
    await form.getByRole("textbox", { name: "UK VAT number" }).fill("GB12345");
    await form.getByRole("button", { name: "Save billing address" }).click();
    await form.getByText("Not a valid UK VAT number").waitFor();
    await screenshot(page, "billing-address-invalid-tax-id");
    await form.getByRole("textbox", { name: "UK VAT number" }).fill("GB 123 456 789");
    await form.getByRole("button", { name: "Save billing address" }).click();
    await form.getByText("Tax on your invoices follows this address.").waitFor();
    await page.getByTestId("tax-id-status").getByText("verified").waitFor();
    await screenshot(page, "billing-address-saved");

    // Checkout: the address is known, so the page asks only for the card; UK VAT is added.
    await page.goto(`${stack.baseUrl}/packages`);
    await page.getByRole("button", { name: "Choose Pro" }).click();
    await page.waitForURL(/\/checkout\/cs_/);
    await page.locator("#card-visa").check();
    await page.locator("#submit").click();
    await page.waitForURL(/\/billing\/return\?session_id=cs_/);
    await page.getByRole("heading", { name: "You're subscribed to Pro" }).waitFor();

    const accountId = (await userWithAccount(db, { email: "tom@example.com" })).accountId ?? "";
    await expect
      .poll(async () => (await db.billingHistory.findFirst({ where: { accountId } }))?.taxCents ?? null, {
        timeout: 20_000,
      })
      .toBe(1980);
    const invoice = await db.billingHistory.findFirstOrThrow({ where: { accountId } });
    expect(invoice).toMatchObject({
      subtotalCents: 9900,
      discountCents: 0,
      totalCents: 11880,
      currency: "usd",
    });
    await page.goto(`${stack.baseUrl}/billing`);
    await expect.poll(() => page.getByTestId("invoice-tax").textContent()).toContain("$19.80");
    const table = page.getByRole("table", { name: "Invoices" });
    expect(await table.textContent()).toContain("$118.80");
    await screenshot(page, "billing-invoice-with-tax");

    const href = (await table.getByRole("link", { name: /^PDF/ }).getAttribute("href")) ?? "";
    const pdf = Buffer.from(await (await fetch(href)).arrayBuffer());
    const { text } = await screenshotPdf(browser, pdf, "billing-invoice-pdf-tax");
    for (const expected of [
      "Ireland",
      "Tom Tax",
      "tom@example.com",
      "10 Downing Street",
      "London",
      "GB123456789",
      "VAT",
      "$19.80",
      "$118.80",
    ]) {
      expect(text, expected).toContain(expected);
    }
  });
});
