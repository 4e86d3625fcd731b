import { missingParam } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { newId } from "../ids.ts";
import { buildPortalSession } from "../objects/portalSessions.ts";
import type { PortalSessionRec } from "../payments-state.ts";

/** `POST /v1/billing_portal/sessions`: a link to the emulator's customer portal page (`http/portal.ts`). */
export function registerBillingPortal(router: Router): void {
  router.post("/v1/billing_portal/sessions", ({ core, p }) => {
    const customerId = p.str("customer");
    if (!customerId) throw missingParam("customer");
    const customer = core.customer(customerId, "customer");
    const rec: PortalSessionRec = {
      id: newId("bps"),
      seq: core.nextSeq(),
      created: core.realNow(),
      customer: customer.id,
      return_url: p.str("return_url") || null,
    };
    core.state.portalSessions[rec.id] = rec;
    core.emit("billing_portal.session.created", buildPortalSession(core, rec));
    return buildPortalSession(core, rec);
  });
}
