import type Stripe from "stripe";
import { lineNet } from "../billing/creditNotes.ts";
import { formatAmount } from "../billing/invoices.ts";
import { amountRefunded } from "../billing/refunds.ts";
import { TEST_CARDS } from "../cards.ts";
import type { EmulatorCore } from "../core.ts";
import { buildCheckoutSession } from "../objects/checkout.ts";
import { buildCreditNote } from "../objects/creditNotes.ts";
import { buildInvoice } from "../objects/invoices.ts";
import { priceAmount } from "../objects/prices.ts";
import { findTaxRate, taxLocation } from "../objects/taxes.ts";
import type { CreditNoteRec } from "../payments-state.ts";
import type { Address, CheckoutSessionRec, InvoiceRec, PaymentIntentRec } from "../state.ts";
import { API_VERSION, EMULATOR_LABEL } from "../version.ts";

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f6f7fb; color: #1a1f36; margin: 0; }
  .banner p { margin: 0; }
  .banner { background: #ffd23f; color: #1a1f36; padding: 10px 16px; font-weight: 700; text-align: center; border-bottom: 2px solid #1a1f36; }
  main { max-width: 560px; margin: 32px auto; background: #fff; border-radius: 8px; padding: 24px 28px; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
  h1 { font-size: 1.4rem; margin-top: 0; }
  table { width: 100%; border-collapse: collapse; margin: 12px 0 20px; }
  td, th { padding: 6px 4px; border-bottom: 1px solid #e3e8ee; text-align: left; }
  td.amount, th.amount { text-align: right; }
  fieldset { border: 1px solid #e3e8ee; border-radius: 6px; margin: 0 0 16px; }
  .card-option { margin: 6px 0; }
  label.field { display: block; margin: 10px 0 4px; font-weight: 600; }
  input[type=email], input[type=text] { width: 100%; padding: 8px; box-sizing: border-box; border: 1px solid #c1c9d2; border-radius: 4px; }
  button { padding: 10px 18px; border-radius: 4px; border: 0; font-weight: 700; cursor: pointer; }
  button.primary { background: #635bff; color: #fff; width: 100%; margin-top: 16px; }
  button.secondary { background: transparent; color: #635bff; margin-top: 8px; }
  .error { background: #fde8e8; color: #a61b1b; padding: 10px; border-radius: 4px; }
  .note { color: #5f6b7a; font-size: .85rem; }
`;

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)} — ${escapeHtml(EMULATOR_LABEL)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="banner" id="emulator-banner" data-testid="stripe-emulator-banner"><p role="note">${escapeHtml(EMULATOR_LABEL)}. No real payment is made.</p></header>
<main>
${body}
<p class="note">This page is served by the Minutely Stripe emulator for development and tests (API version ${escapeHtml(API_VERSION)}). It is not Stripe.</p>
</main>
</body>
</html>`;
}

export function cardOptions(selected: string): string {
  return TEST_CARDS.map(
    (card) => `<div class="card-option">
  <input type="radio" name="card" id="card-${card.slug}" value="${card.slug}"${card.slug === selected ? " checked" : ""}>
  <label for="card-${card.slug}">${escapeHtml(card.label)}</label>
</div>`,
  ).join("\n");
}

function interval(core: EmulatorCore, priceId: string): string {
  const recurring = core.state.prices[priceId]?.recurring;
  if (!recurring) return "";
  return recurring.interval_count > 1
    ? ` every ${recurring.interval_count} ${recurring.interval}s`
    : ` / ${recurring.interval}`;
}

export function checkoutPage(
  core: EmulatorCore,
  session: CheckoutSessionRec,
  options: {
    error?: string;
    selected?: string;
    email?: string;
    name?: string;
    promotionCode?: string;
    address?: TaxAddressInput;
  } = {},
): string {
  if (session.status !== "open") {
    const success = session.success_url?.replaceAll("{CHECKOUT_SESSION_ID}", session.id);
    return layout(
      "Checkout",
      `<h1 id="checkout-title">This checkout session is ${escapeHtml(session.status)}</h1>
${success && session.status === "complete" ? `<p><a id="continue" href="${escapeHtml(success)}">Continue</a></p>` : ""}`,
    );
  }
  const customer = session.customer ? core.state.customers[session.customer] : undefined;
  const rows = session.line_items
    .map((li) => {
      const price = core.state.prices[li.price];
      if (!price) return "";
      const name = core.state.products[price.product]?.name ?? price.product;
      return `<tr><td>${escapeHtml(name)} × ${li.quantity}</td><td class="amount">${escapeHtml(formatAmount(priceAmount(price, li.quantity, session.currency ?? price.currency), session.currency ?? price.currency))}${escapeHtml(interval(core, price.id))}</td></tr>`;
    })
    .join("\n");
  const total = session.line_items.reduce((sum, li) => {
    const price = core.state.prices[li.price];
    return sum + (price ? priceAmount(price, li.quantity, session.currency ?? price.currency) : 0);
  }, 0);
  const trial = session.subscription_data.trial_period_days;
  const built = buildCheckoutSession(core, session);
  const discount = built.total_details?.amount_discount ?? 0;
  const taxAmount = built.total_details?.amount_tax ?? 0;
  const exclusiveTax = (built.amount_total ?? 0) - (total - discount);
  const taxRow =
    session.automatic_tax && !trial
      ? `<tr><td>Tax</td><td class="amount" id="checkout-tax">${
          built.automatic_tax.status === "complete"
            ? escapeHtml(formatAmount(taxAmount, session.currency ?? "usd"))
            : "Calculated from your address"
        }</td></tr>`
      : "";
  const customerLocated = taxLocation(customer?.address ?? null) !== null;
  const addressFields =
    session.automatic_tax && !customerLocated
      ? `<fieldset>
<legend>Billing address (for tax)</legend>
<label class="field" for="address-country">Country (two letters)</label>
<input type="text" id="address-country" name="address_country" value="${escapeHtml(options.address?.country ?? session.tax_address?.country ?? "")}" autocomplete="country" maxlength="2">
<label class="field" for="address-state">State or province (US and Canada)</label>
<input type="text" id="address-state" name="address_state" value="${escapeHtml(options.address?.state ?? session.tax_address?.state ?? "")}" autocomplete="address-level1">
<label class="field" for="address-postal-code">Postal code</label>
<input type="text" id="address-postal-code" name="address_postal_code" value="${escapeHtml(options.address?.postal_code ?? session.tax_address?.postal_code ?? "")}" autocomplete="postal-code">
</fieldset>`
      : "";
  const discountRow =
    discount > 0
      ? `<tr><td>Discount</td><td class="amount" id="checkout-discount">${escapeHtml(formatAmount(-discount, session.currency ?? "usd"))}</td></tr>`
      : "";
  const promotionField = session.allow_promotion_codes
    ? `<label class="field" for="promotion-code">Promotion code</label>
<input type="text" id="promotion-code" name="promotion_code" value="${escapeHtml(options.promotionCode ?? "")}" autocomplete="off">`
    : "";
  const title =
    session.mode === "setup"
      ? "Save a card for future payments"
      : session.mode === "payment"
        ? "Pay"
        : "Subscribe";
  const email = options.email ?? customer?.email ?? session.customer_email ?? "";
  return layout(
    title,
    `<h1 id="checkout-title">${escapeHtml(title)}</h1>
${options.error ? `<p class="error" role="alert" id="checkout-error">${escapeHtml(options.error)}</p>` : ""}
${
  session.mode !== "setup"
    ? `<table aria-label="Order summary">
<thead><tr><th>Item</th><th class="amount">Price</th></tr></thead>
<tbody>${rows}${discountRow}${taxRow}</tbody>
<tfoot><tr><th>${trial ? `Due today (${trial}-day trial)` : "Due today"}</th><th class="amount" id="checkout-total">${escapeHtml(formatAmount(trial ? 0 : total - discount + exclusiveTax, session.currency ?? "usd"))}</th></tr></tfoot>
</table>`
    : `<p>The card you choose is saved for ${escapeHtml(customer?.email ?? customer?.id ?? "this customer")} and becomes the default for invoices.</p>`
}
<form method="post" action="/checkout/${encodeURIComponent(session.id)}/pay" id="checkout-form">
<fieldset>
<legend>Test card</legend>
${cardOptions(options.selected ?? "visa")}
</fieldset>
<label class="field" for="email">Email</label>
<input type="email" id="email" name="email" value="${escapeHtml(email)}" autocomplete="email">
<label class="field" for="name">Name on card</label>
<input type="text" id="name" name="name" value="${escapeHtml(options.name ?? customer?.name ?? "")}" autocomplete="cc-name">
${promotionField}
${addressFields}
<button type="submit" class="primary" id="submit">${session.mode === "setup" ? "Save card" : session.mode === "payment" ? `Pay ${escapeHtml(formatAmount(total - discount + exclusiveTax, session.currency ?? "usd"))}` : "Subscribe"}</button>
</form>
${
  session.cancel_url
    ? `<form method="post" action="/checkout/${encodeURIComponent(session.id)}/cancel"><button type="submit" class="secondary" id="cancel">Cancel and return</button></form>`
    : ""
}`,
  );
}

/** The billing address fields of the hosted Checkout page (automatic tax). */
export interface TaxAddressInput {
  country: string;
  state: string;
  postal_code: string;
}

export function authenticatePage(
  session: CheckoutSessionRec,
  card: string,
  email: string,
  name: string,
  address?: TaxAddressInput,
): string {
  return layout(
    "3-D Secure authentication",
    `<h1 id="checkout-title">3-D Secure authentication (emulated)</h1>
<p>Your bank asks you to confirm this payment. Choose an outcome.</p>
<form method="post" action="/checkout/${encodeURIComponent(session.id)}/authenticate">
<input type="hidden" name="card" value="${escapeHtml(card)}">
<input type="hidden" name="email" value="${escapeHtml(email)}">
<input type="hidden" name="name" value="${escapeHtml(name)}">
<input type="hidden" name="address_country" value="${escapeHtml(address?.country ?? "")}">
<input type="hidden" name="address_state" value="${escapeHtml(address?.state ?? "")}">
<input type="hidden" name="address_postal_code" value="${escapeHtml(address?.postal_code ?? "")}">
<button type="submit" class="primary" id="authorize" name="result" value="complete">Complete authentication</button>
<button type="submit" class="secondary" id="fail-authentication" name="result" value="fail">Fail authentication</button>
</form>`,
  );
}

/** The emulated 3-D Secure step of a PaymentIntent in `requires_action` (its `next_action` URL). */
export function paymentIntentAuthenticatePage(pi: PaymentIntentRec, message?: string): string {
  const form =
    pi.status === "requires_action"
      ? `<p>Your bank asks you to confirm a payment of <strong id="authenticate-amount">${escapeHtml(formatAmount(pi.amount, pi.currency))}</strong>. Choose an outcome.</p>
<form method="post" action="/payment_intents/${encodeURIComponent(pi.id)}/authenticate">
<button type="submit" class="primary" id="authorize" name="result" value="complete">Complete authentication</button>
<button type="submit" class="secondary" id="fail-authentication" name="result" value="fail">Fail authentication</button>
</form>`
      : `<p>Payment status: <strong id="payment-status">${escapeHtml(pi.status)}</strong>.</p>`;
  return layout(
    "3-D Secure authentication",
    `<h1 id="checkout-title">3-D Secure authentication (emulated)</h1>
${message ? `<p class="error" role="alert" id="authenticate-error">${escapeHtml(message)}</p>` : ""}
${form}`,
  );
}

export function invoicePage(core: EmulatorCore, inv: InvoiceRec, error?: string): string {
  const built = buildInvoice(core, inv);
  const money = (amount: number) => escapeHtml(formatAmount(amount, inv.currency));
  const discount = (built.total_discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0);
  const summary = [
    `<tr><th>Subtotal</th><th class="amount" id="invoice-subtotal">${money(built.subtotal)}</th></tr>`,
    ...(discount > 0
      ? [`<tr><th>Discount</th><th class="amount" id="invoice-discount">${money(-discount)}</th></tr>`]
      : []),
    ...taxRows(core, built).map(
      ([label, amount], index) =>
        `<tr><th>${escapeHtml(label)}</th><th class="amount" id="invoice-tax-${index}">${money(amount)}</th></tr>`,
    ),
    `<tr><th>Total</th><th class="amount" id="invoice-total">${money(built.total)}</th></tr>`,
  ].join("\n");
  const rows = inv.lines
    .map(
      (line) =>
        `<tr><td>${escapeHtml(line.description ?? "")}</td><td class="amount">${escapeHtml(formatAmount(line.amount, line.currency))}</td></tr>`,
    )
    .join("\n");
  const payForm =
    inv.status === "open"
      ? `<h2>Pay this invoice</h2>
<form method="post" action="/invoices/${encodeURIComponent(inv.id)}/pay" id="invoice-pay-form">
<fieldset><legend>Test card</legend>${cardOptions("visa")}</fieldset>
<button type="submit" class="primary" id="pay">Pay ${escapeHtml(formatAmount(inv.amount_due - inv.amount_paid, inv.currency))}</button>
</form>`
      : "";
  return layout(
    `Invoice ${inv.number ?? inv.id}`,
    `<h1 id="invoice-title">Invoice ${escapeHtml(inv.number ?? inv.id)}</h1>
${error ? `<p class="error" role="alert" id="invoice-error">${escapeHtml(error)}</p>` : ""}
<p>Status: <strong id="invoice-status">${escapeHtml(inv.status)}</strong> · Billed to ${escapeHtml(inv.customer_email ?? inv.customer)}</p>
<table aria-label="Invoice lines"><thead><tr><th>Description</th><th class="amount">Amount</th></tr></thead>
<tbody>${rows}</tbody>
<tfoot>${summary}
<tr><th>Amount due</th><th class="amount" id="invoice-amount-due">${escapeHtml(formatAmount(inv.amount_due, inv.currency))}</th></tr></tfoot></table>
<p><a href="/invoices/${encodeURIComponent(inv.id)}/pdf" id="invoice-pdf">Download PDF</a></p>
${payForm}`,
  );
}

export function landingPage(baseUrl: string): string {
  return layout(
    "Stripe emulator",
    `<h1>Minutely Stripe emulator</h1>
<p>A Stripe-compatible emulator for development and tests. Point the official <code>stripe</code> SDK at
<code>${escapeHtml(baseUrl)}</code> with any <code>sk_test_…</code> key.</p>
<ul>
<li><a href="/_emulator/health">/_emulator/health</a></li>
<li><a href="/_emulator/deliveries">/_emulator/deliveries</a> (webhook deliveries)</li>
</ul>`,
  );
}

function pdfEscape(text: string): string {
  // Standard PDF fonts use Latin-1; replace what they cannot show.
  return text
    .replaceAll("×", "x")
    .replaceAll("—", "-")
    .replaceAll("€", "EUR ")
    .replace(/[^\x20-\x7e]/g, "?")
    .replaceAll("\\", "\\\\")
    .replaceAll("(", "\\(")
    .replaceAll(")", "\\)");
}

/** One line of text on a PDF page: left-aligned at `x`, or right-aligned to `right`. */
interface PdfText {
  text: string;
  y: number;
  x?: number;
  right?: number;
  size?: number;
  bold?: boolean;
}

/** Helvetica's average glyph width is about half the font size: enough to right-align amounts. */
function approxWidth(text: string, size: number): number {
  return pdfEscape(text).replaceAll("\\", "").length * size * 0.52;
}

/**
 * A small hand-written PDF 1.4 file (one A4 page, Helvetica and Helvetica-Bold, no dependencies):
 * objects, a content stream of positioned text, and a correct cross-reference table.
 */
export function textPdf(items: PdfText[]): Buffer {
  const content = items
    .map((item) => {
      const size = item.size ?? 10;
      const x = item.right !== undefined ? item.right - approxWidth(item.text, size) : (item.x ?? 50);
      return `BT /${item.bold ? "F2" : "F1"} ${size} Tf ${x.toFixed(1)} ${item.y} Td (${pdfEscape(item.text)}) Tj ET`;
    })
    .join("\n");
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
    `<< /Length ${Buffer.byteLength(content, "latin1")} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(Buffer.byteLength(out, "latin1"));
    out += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

const pdfDate = (seconds: number | null) =>
  seconds === null ? "-" : new Date(seconds * 1000).toISOString().slice(0, 10);

/** The account's business details as Stripe prints them: Minutely is established in Ireland (docs/billing.md, "Tax"). */
const SELLER = ["Minutely (Stripe emulator)", "Test mode - no real payment", "Ireland"];

function addressLines(address: Address | null): string[] {
  if (!address) return [];
  const cityLine = [address.postal_code, address.city, address.state].filter(Boolean).join(" ");
  return [address.line1, address.line2, cityLine, address.country].filter((l): l is string => Boolean(l));
}

/**
 * A document page: seller and buyer, number and dates, one row per line with its amount, then totals.
 * Used for invoices and credit notes.
 */
function documentPdf(doc: {
  title: string;
  number: string;
  dates: [string, string][];
  buyer: string[];
  rows: [string, string][];
  totals: [string, string][];
  footer?: string;
}): Buffer {
  const items: PdfText[] = [
    { text: `${doc.title} ${doc.number}`, y: 790, size: 18, bold: true },
    { text: `${EMULATOR_LABEL} - not a real document`, y: 770, size: 8 },
  ];
  let y = 740;
  doc.dates.forEach(([label, value]) => {
    items.push({ text: label, y, x: 50, bold: true }, { text: value, y, x: 160 });
    y -= 14;
  });
  y -= 10;
  const top = y;
  items.push({ text: "From", y, x: 50, bold: true }, { text: "Bill to", y, x: 320, bold: true });
  SELLER.forEach((line, i) => {
    items.push({ text: line, y: top - 14 * (i + 1), x: 50 });
  });
  doc.buyer.forEach((line, i) => {
    items.push({ text: line, y: top - 14 * (i + 1), x: 320 });
  });
  y = top - 14 * (Math.max(SELLER.length, doc.buyer.length) + 2);
  items.push({ text: "Description", y, x: 50, bold: true }, { text: "Amount", y, right: 545, bold: true });
  y -= 18;
  for (const [description, amount] of doc.rows) {
    items.push({ text: description.slice(0, 80), y, x: 50 }, { text: amount, y, right: 545 });
    y -= 14;
  }
  y -= 8;
  for (const [label, amount] of doc.totals) {
    items.push({ text: label, y, x: 330, bold: true }, { text: amount, y, right: 545 });
    y -= 14;
  }
  if (doc.footer) items.push({ text: doc.footer, y: y - 20, x: 50, size: 8 });
  return textPdf(items);
}

function taxIdLabel(type: string): string {
  return type.endsWith("_vat") ? "VAT" : type.toUpperCase().replace("_", " ");
}

/**
 * An invoice's tax rows: one per tax rate (`VAT (20%)`, inclusive ones marked), or a single `Tax` row
 * of 0 when there is none; `Reverse charge` for reverse-charge customers, as Stripe prints it.
 */
export function taxRows(core: EmulatorCore, inv: Stripe.Invoice): [string, number][] {
  const rows: [string, number][] = (inv.total_taxes ?? []).map((tax) => {
    const rate = tax.tax_rate_details ? findTaxRate(core, tax.tax_rate_details.tax_rate) : undefined;
    const name = rate
      ? `${rate.display_name} (${rate.percentage}%${tax.tax_behavior === "inclusive" ? " incl." : ""})`
      : "Tax";
    return [name, tax.amount];
  });
  if (inv.customer_tax_exempt === "reverse") rows.push(["Reverse charge", 0]);
  return rows.length > 0 ? rows : [["Tax", 0]];
}

/** A credit note's subtotal and tax rows, when it credits tax. */
function creditNoteTaxRows(core: EmulatorCore, cn: CreditNoteRec): [string, number][] {
  const built = buildCreditNote(core, cn);
  const taxes = built.total_taxes ?? [];
  if (taxes.length === 0) return [];
  return [
    ["Subtotal", built.subtotal],
    ...taxes.map((tax): [string, number] => {
      const rate = tax.tax_rate_details ? findTaxRate(core, tax.tax_rate_details.tax_rate) : undefined;
      return [rate ? `${rate.display_name} (${rate.percentage}%)` : "Tax", tax.amount];
    }),
  ];
}

/** The invoice PDF (`invoice_pdf`): seller, buyer, number, dates, lines, tax, totals, what was refunded. */
export function invoicePdf(core: EmulatorCore, inv: InvoiceRec): Buffer {
  const customer = core.state.customers[inv.customer];
  const money = (amount: number) => formatAmount(amount, inv.currency);
  const built = buildInvoice(core, inv);
  const discount = (built.total_discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0);
  const credited = Object.values(core.state.creditNotes ?? {})
    .filter((cn) => cn.invoice === inv.id && cn.status === "issued")
    .reduce((sum, cn) => sum + cn.amount, 0);
  // What was given back of the invoice's payment (refunds, a credit note's refund part included).
  const refunded = inv.payment_intent ? amountRefunded(core, inv.payment_intent) : 0;
  return documentPdf({
    title: "Invoice",
    number: inv.number ?? inv.id,
    dates: [
      ["Date of issue", pdfDate(inv.finalized_at ?? inv.created)],
      ["Date due", pdfDate(inv.due_date ?? inv.finalized_at ?? inv.created)],
      ["Period", `${pdfDate(inv.period_start)} - ${pdfDate(inv.period_end)}`],
      ["Status", inv.status],
    ],
    buyer: [
      inv.customer_name ?? customer?.name ?? "",
      inv.customer_email ?? customer?.email ?? inv.customer,
      ...addressLines(customer?.address ?? null),
      ...(built.customer_tax_ids ?? []).map((t) => `${taxIdLabel(t.type)} ${t.value ?? ""}`),
    ].filter(Boolean),
    rows: inv.lines.map((line) => [line.description ?? "", money(line.amount)]),
    totals: [
      ["Subtotal", money(built.subtotal)],
      ...(discount > 0 ? ([["Discount", money(-discount)]] as [string, string][]) : []),
      ...taxRows(core, built).map(([label, amount]) => [label, money(amount)] as [string, string]),
      ["Total", money(built.total)],
      ...(inv.starting_balance !== 0
        ? ([["Applied balance", money(inv.starting_balance)]] as [string, string][])
        : []),
      ...(credited > 0 ? ([["Credit notes", money(-credited)]] as [string, string][]) : []),
      ["Amount due", money(inv.amount_due)],
      ["Amount paid", money(inv.amount_paid)],
      ...(refunded > 0 ? ([["Refunded", money(-refunded)]] as [string, string][]) : []),
    ],
  });
}

/** A credit note's PDF (`credit_note.pdf`). */
export function creditNotePdf(core: EmulatorCore, cn: CreditNoteRec): Buffer {
  const customer = core.state.customers[cn.customer];
  const inv = core.state.invoices[cn.invoice];
  const money = (amount: number) => formatAmount(amount, cn.currency);
  const discount = cn.lines.reduce((sum, line) => sum + line.amount - lineNet(line), 0);
  return documentPdf({
    title: "Credit note",
    number: cn.number,
    dates: [
      ["Date of issue", pdfDate(cn.created)],
      ["Invoice", inv?.number ?? cn.invoice],
      ["Status", cn.status],
    ],
    buyer: [
      customer?.name ?? "",
      customer?.email ?? cn.customer,
      ...addressLines(customer?.address ?? null),
    ].filter(Boolean),
    rows: cn.lines.map((line) => [line.description ?? "Credit", money(line.amount)]),
    totals: [
      ...(discount > 0 ? [["Discount", money(-discount)] as [string, string]] : []),
      ...creditNoteTaxRows(core, cn).map(([label, amount]) => [label, money(amount)] as [string, string]),
      ["Total credited", money(cn.amount)],
      ["Refunded", money(cn.refund_amount)],
      ["Credited to balance", money(cn.credit_amount)],
      ["Outside Stripe", money(cn.out_of_band_amount)],
    ],
    ...(cn.memo ? { footer: cn.memo } : {}),
  });
}
