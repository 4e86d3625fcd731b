import type { EmulatorCore } from "../core.ts";
import { invalidRequest, resourceMissing } from "../errors.ts";
import { newId } from "../ids.ts";
import { buildRefund } from "../objects/refunds.ts";
import type { PaymentIntentRec, RefundRec } from "../state.ts";
import { refundCharge } from "./payments.ts";

/** What is already refunded of a PaymentIntent. */
export function amountRefunded(core: EmulatorCore, paymentIntentId: string): number {
  return Object.values(core.state.refunds)
    .filter((r) => r.payment_intent === paymentIntentId)
    .reduce((sum, r) => sum + r.amount, 0);
}

const money = (amount: number, currency: string) =>
  `${currency === "usd" ? "$" : `${currency.toUpperCase()} `}${(amount / 100).toFixed(2)}`;

/**
 * Refunds (part of) a succeeded PaymentIntent's charge: `amount` defaults to what is left. Card refunds
 * succeed at once in test mode (`refund.created`, `charge.refunded`).
 */
export function refundPaymentIntent(
  core: EmulatorCore,
  paymentIntentId: string,
  input: {
    amount: number | undefined;
    reason: RefundRec["reason"];
    metadata: Record<string, string>;
    param?: string;
  },
): RefundRec {
  const param = input.param ?? "payment_intent";
  const pi: PaymentIntentRec | undefined = core.state.paymentIntents[paymentIntentId];
  if (!pi) throw resourceMissing("payment_intent", paymentIntentId, param);
  if (pi.status !== "succeeded") {
    throw invalidRequest(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, param);
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
  const amount = input.amount ?? remaining;
  if (amount <= 0) throw invalidRequest("Refund amount must be positive.", "amount", "amount_too_small");
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${money(amount, pi.currency)}) is greater than unrefunded amount on charge (${money(remaining, pi.currency)})`,
      "amount",
      "amount_too_large",
    );
  }
  const reason = input.reason;
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
    metadata: input.metadata,
  };
  rec.charge = refundCharge(core, pi.id, amount);
  core.state.refunds[rec.id] = rec;
  core.emit("refund.created", buildRefund(rec));
  return rec;
}
