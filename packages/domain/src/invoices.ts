/** How an invoice is described to people, from Stripe's `billing_reason`. */

/** Stripe's billing reasons, in words ("Plan change (prorated)" for an upgrade's invoice). */
export function billingReasonLabel(reason: string | null): string {
  switch (reason) {
    case "subscription_create":
      return "First payment";
    case "subscription_cycle":
      return "Renewal";
    case "subscription_update":
      return "Plan change (prorated)";
    case "manual":
      return "Manual";
    case null:
      return "—";
    default:
      return reason.replaceAll("_", " ");
  }
}
