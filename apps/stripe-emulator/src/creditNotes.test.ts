import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { invoiceInvariantViolations, startTestEmulator } from "./testing.ts";

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(async () => {
  expect(await invoiceInvariantViolations(stripe)).toEqual([]);
  await emulator.close();
});

/** A finalized $60 invoice with two lines ($40 + $20); paid unless `open`. */
async function invoice(open = false) {
  const customer = await stripe.customers.create({
    email: "cn@minutely.test",
    payment_method: "pm_card_visa",
    invoice_settings: { default_payment_method: "pm_card_visa" },
  });
  await stripe.invoiceItems.create({
    customer: customer.id,
    amount: 4000,
    currency: "usd",
    description: "Seats",
  });
  await stripe.invoiceItems.create({
    customer: customer.id,
    amount: 2000,
    currency: "usd",
    description: "Minutes",
  });
  const draft = await stripe.invoices.create({
    customer: customer.id,
    pending_invoice_items_behavior: "include",
  });
  const inv = open ? await stripe.invoices.finalizeInvoice(draft.id) : await stripe.invoices.pay(draft.id);
  return { customer, inv };
}

describe("credit notes", () => {
  it("on a paid invoice: refund part, credit the rest to the balance, by lines", async () => {
    const { customer, inv } = await invoice();
    const seats = inv.lines.data.find((l) => l.description === "Seats");
    const params = {
      invoice: inv.id,
      lines: [{ type: "invoice_line_item" as const, invoice_line_item: seats?.id ?? "", amount: 3000 }],
      refund_amount: 1000,
      credit_amount: 2000,
      reason: "order_change" as const,
      memo: "Fewer seats",
    };
    const preview = await stripe.creditNotes.preview(params);
    expect(preview).toMatchObject({ amount: 3000, type: "post_payment" });
    expect((await stripe.creditNotes.list({ invoice: inv.id })).data).toHaveLength(0);
    const cn = await stripe.creditNotes.create(params);
    expect(cn).toMatchObject({
      object: "credit_note",
      amount: 3000,
      total: 3000,
      type: "post_payment",
      post_payment_amount: 3000,
      out_of_band_amount: 0,
      reason: "order_change",
      memo: "Fewer seats",
      status: "issued",
      number: `${inv.number}-CN-01`,
    });
    expect(cn.lines.data[0]).toMatchObject({
      type: "invoice_line_item",
      invoice_line_item: seats?.id,
      amount: 3000,
    });
    expect(cn.refunds[0]?.amount_refunded).toBe(1000);
    const refund = await stripe.refunds.retrieve(String(cn.refunds[0]?.refund));
    expect(refund).toMatchObject({ amount: 1000, payment_intent: expect.stringMatching(/^pi_/) });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance).toBe(-2000);
    const txn = await stripe.customers.retrieveBalanceTransaction(
      customer.id,
      String(cn.customer_balance_transaction),
    );
    expect(txn).toMatchObject({ type: "credit_note", amount: -2000, credit_note: cn.id });
    expect(await stripe.invoices.retrieve(inv.id)).toMatchObject({
      post_payment_credit_notes_amount: 3000,
      status: "paid",
    });
    const types = (await stripe.events.list({ limit: 10 })).data.map((e) => e.type);
    expect(types).toContain("credit_note.created");
    expect(types).toContain("charge.refunded");
    // More than what is left to credit:
    await expect(stripe.creditNotes.create({ invoice: inv.id, amount: 3001 })).rejects.toMatchObject({
      param: "amount",
    });
    await expect(
      stripe.creditNotes.create({ invoice: inv.id, amount: 1000, refund_amount: 100, credit_amount: 100 }),
    ).rejects.toMatchObject({ param: "amount" });
  });

  it("on an open invoice lowers the amount due, and voiding it restores it", async () => {
    const { inv } = await invoice(true);
    expect(inv.status).toBe("open");
    const cn = await stripe.creditNotes.create({ invoice: inv.id, amount: 1500, reason: "duplicate" });
    expect(cn).toMatchObject({ type: "pre_payment", pre_payment_amount: 1500, out_of_band_amount: null });
    expect(await stripe.invoices.retrieve(inv.id)).toMatchObject({
      amount_due: 4500,
      amount_remaining: 4500,
      pre_payment_credit_notes_amount: 1500,
    });
    await expect(
      stripe.creditNotes.create({ invoice: inv.id, amount: 100, credit_amount: 100 }),
    ).rejects.toMatchObject({ param: "credit_amount" });
    const voided = await stripe.creditNotes.voidCreditNote(cn.id);
    expect(voided).toMatchObject({ status: "void", voided_at: expect.any(Number) });
    expect(await stripe.invoices.retrieve(inv.id)).toMatchObject({
      amount_due: 6000,
      pre_payment_credit_notes_amount: 0,
    });
    await expect(stripe.creditNotes.voidCreditNote(cn.id)).rejects.toMatchObject({
      code: "credit_note_already_voided",
    });
    // Crediting everything that is due pays the invoice.
    const all = await stripe.creditNotes.create({ invoice: inv.id, amount: 6000 });
    expect(all.amount).toBe(6000);
    expect((await stripe.invoices.retrieve(inv.id)).status).toBe("paid");
  });

  it("custom lines, out of band, list, update and lines", async () => {
    const { inv } = await invoice();
    const cn = await stripe.creditNotes.create({
      invoice: inv.id,
      lines: [{ type: "custom_line_item", unit_amount: 250, quantity: 2, description: "Goodwill" }],
      out_of_band_amount: 500,
    });
    expect(cn).toMatchObject({ amount: 500, out_of_band_amount: 500, refunds: [] });
    const updated = await stripe.creditNotes.update(cn.id, { memo: "Paid in cash", metadata: { a: "b" } });
    expect(updated).toMatchObject({ memo: "Paid in cash", metadata: { a: "b" } });
    const lines = await stripe.creditNotes.listLineItems(cn.id);
    expect(lines.data[0]).toMatchObject({ type: "custom_line_item", quantity: 2, unit_amount: 250 });
    expect(
      (await stripe.creditNotes.list({ customer: inv.customer as string })).data.map((c) => c.id),
    ).toEqual([cn.id]);
    await expect(
      stripe.creditNotes.create({
        invoice: inv.id,
        amount: 100,
        refunds: [{ refund: "re_x", amount_refunded: 100 }],
      }),
    ).rejects.toMatchObject({ param: "refunds" });
  });

  it("refuses drafts and void invoices", async () => {
    const customer = await stripe.customers.create({});
    await stripe.invoiceItems.create({ customer: customer.id, amount: 1000, currency: "usd" });
    const draft = await stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: "include",
    });
    await expect(stripe.creditNotes.create({ invoice: draft.id, amount: 100 })).rejects.toMatchObject({
      param: "invoice",
    });
  });
});
