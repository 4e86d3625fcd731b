import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import type { PortalSessionRec } from "../payments-state.ts";

/** The one portal configuration the emulator has (update card, invoice history, cancel at period end). */
export const PORTAL_CONFIGURATION = "bpc_emulator_default";

export function buildPortalSession(core: EmulatorCore, rec: PortalSessionRec): Stripe.BillingPortal.Session {
  return {
    id: rec.id,
    object: "billing_portal.session",
    configuration: PORTAL_CONFIGURATION,
    created: rec.created,
    customer: rec.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: rec.return_url,
    url: `${core.baseUrl}/billing_portal/${rec.id}`,
  };
}
