import { refundCharge } from "../billing/payments.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest, missingParam, resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { newId } from "../ids.ts";
import { buildRefund } from "../objects/refunds.ts";
import type { Params } from "../params.ts";
import type { PaymentIntentRec, RefundRec } from "../state.ts";

/** What is already refunded of a PaymentIntent. */
export function amountRefunded(core: EmulatorCore, paymentIntentId: string): number {
  return Object.values(core.state.refunds)
    .filter((r) => r.payment_intent === paymentIntentId)
    .reduce((sum, r) => sum + r.amount, 0);
}

const money = (amount: number, currency: string) =>
  `${currency === "usd" ? "$" : `${currency.toUpperCase()} `}${(amount / 100).toFixed(2)}`;

function createRefund(core: EmulatorCore, p: Params): RefundRec {
  const paymentIntentId = p.str("payment_intent");
  if (!paymentIntentId) throw missingParam("payment_intent");
  const pi: PaymentIntentRec | undefined = core.state.paymentIntents[paymentIntentId];
  if (!pi) throw resourceMissing("payment_intent", paymentIntentId, "payment_intent");
  if (pi.status !== "succeeded") {
    throw invalidRequest(
      `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`,
      "payment_intent",
    );
  }
  const refunded = amountRefunded(core, pi.id);
  const remaining = pi.amount - refunded;
  if (remaining <= 0) {
    throw invalidRequest(
      `Charge for PaymentIntent ${pi.id} has already been refunded.`,
      undefined,
      "charge_already_refunded",
    );
  }
  const amount = p.int("amount") ?? remaining;
  if (amount <= 0) throw invalidRequest("Refund amount must be positive.", "amount", "amount_too_small");
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${money(amount, pi.currency)}) is greater than unrefunded amount on charge (${money(remaining, pi.currency)})`,
      "amount",
      "amount_too_large",
    );
  }
  const reason = p.oneOf("reason", ["duplicate", "fraudulent", "requested_by_customer"] as const) ?? null;
  const rec: RefundRec = {
    id: newId("re"),
    seq: core.nextSeq(),
    created: core.realNow(),
    payment_intent: pi.id,
    customer: pi.customer,
    payment_method: pi.payment_method,
    amount,
    currency: pi.currency,
    reason,
    status: "succeeded",
    metadata: p.metadata("metadata", {}),
  };
  rec.charge = refundCharge(core, pi.id, amount);
  core.state.refunds[rec.id] = rec;
  core.emit("refund.created", buildRefund(rec));
  return rec;
}

export function registerRefunds(router: Router): void {
  router.post("/v1/refunds", ({ core, p }) => buildRefund(createRefund(core, p)));
  router.get("/v1/refunds", ({ core, p, url }) => {
    const paymentIntent = p.str("payment_intent");
    const items = Object.values(core.state.refunds).filter(
      (r) => paymentIntent === undefined || r.payment_intent === paymentIntent,
    );
    return paginate(items, p, url, buildRefund);
  });
  router.get("/v1/refunds/:id", ({ core, path }) => {
    const rec = core.state.refunds[path.id ?? ""];
    if (!rec) throw resourceMissing("refund", path.id ?? "", "refund");
    return buildRefund(rec);
  });
}
