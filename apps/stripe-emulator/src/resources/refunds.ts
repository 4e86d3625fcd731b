import { refundPaymentIntent } from "../billing/refunds.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest, missingParam, resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildRefund } from "../objects/refunds.ts";
import type { Params } from "../params.ts";
import type { RefundRec } from "../state.ts";

function createRefund(core: EmulatorCore, p: Params): RefundRec {
  const chargeId = p.str("charge");
  if (chargeId && p.has("payment_intent")) {
    throw invalidRequest("You can only pass one of `charge` or `payment_intent`.", "payment_intent");
  }
  let paymentIntentId = p.str("payment_intent");
  if (chargeId) {
    const charge = core.state.charges[chargeId];
    if (!charge) throw resourceMissing("charge", chargeId, "charge");
    if (charge.status !== "succeeded") {
      throw invalidRequest(`Charge ${charge.id} has not succeeded; there is nothing to refund.`, "charge");
    }
    paymentIntentId = charge.payment_intent;
  }
  if (!paymentIntentId) throw missingParam("payment_intent");
  return refundPaymentIntent(core, paymentIntentId, {
    amount: p.int("amount"),
    reason: p.oneOf("reason", ["duplicate", "fraudulent", "requested_by_customer"] as const) ?? null,
    metadata: p.metadata("metadata", {}),
  });
}

export function registerRefunds(router: Router): void {
  router.post("/v1/refunds", ({ core, p }) => buildRefund(createRefund(core, p)));
  router.get("/v1/refunds", ({ core, p, url }) => {
    const paymentIntent = p.str("payment_intent");
    const charge = p.str("charge");
    const items = Object.values(core.state.refunds).filter(
      (r) =>
        (paymentIntent === undefined || r.payment_intent === paymentIntent) &&
        (charge === undefined || r.charge === charge),
    );
    return paginate(items, p, url, buildRefund);
  });
  router.get("/v1/refunds/:id", ({ core, path }) => {
    const rec = core.state.refunds[path.id ?? ""];
    if (!rec) throw resourceMissing("refund", path.id ?? "", "refund");
    return buildRefund(rec);
  });
}
