import {
  cancelSubscriptionNow,
  createSubscriptionFromParams,
  resumeSubscription,
  updateSubscription,
} from "../billing/subscriptions.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest, resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildSubscription, buildSubscriptionItem } from "../objects/subscriptions.ts";
import { Params } from "../params.ts";
import { searchRecords } from "../search.ts";
import type { SubscriptionItemRec, SubscriptionRec } from "../state.ts";

function findItem(core: EmulatorCore, id: string): { sub: SubscriptionRec; item: SubscriptionItemRec } {
  for (const sub of Object.values(core.state.subscriptions)) {
    const item = sub.items.find((i) => i.id === id);
    if (item) return { sub, item };
  }
  throw resourceMissing("subscription_item", id, "id");
}

const LISTED_STATUSES = new Set(["active", "past_due", "trialing", "unpaid", "incomplete", "paused"]);

export function registerSubscriptions(router: Router): void {
  router.post("/v1/subscriptions", ({ core, p }) =>
    buildSubscription(core, createSubscriptionFromParams(core, p).sub),
  );

  router.get("/v1/subscriptions", ({ core, p, url }) => {
    const customer = p.str("customer");
    const status = p.str("status");
    const price = p.str("price") ?? p.str("plan");
    const clock = p.str("test_clock");
    const items = Object.values(core.state.subscriptions).filter(
      (sub) =>
        (customer === undefined || sub.customer === customer) &&
        (clock === undefined || sub.test_clock === clock) &&
        (price === undefined || sub.items.some((i) => i.price === price)) &&
        (status === "all"
          ? true
          : status === undefined
            ? LISTED_STATUSES.has(sub.status)
            : sub.status === status),
    );
    return paginate(items, p, url, (sub) => buildSubscription(core, sub));
  });

  router.get("/v1/subscriptions/search", ({ core, p, url }) =>
    searchRecords(
      Object.values(core.state.subscriptions),
      p,
      url,
      (sub, field) => (field === "status" ? sub.status : field === "customer" ? sub.customer : undefined),
      (sub) => buildSubscription(core, sub),
    ),
  );

  router.get("/v1/subscriptions/:id", ({ core, path }) =>
    buildSubscription(core, core.subscription(path.id ?? "", "id")),
  );

  router.post("/v1/subscriptions/:id", ({ core, p, path }) => {
    const sub = core.subscription(path.id ?? "", "id");
    updateSubscription(core, sub, p);
    return buildSubscription(core, sub);
  });

  router.post("/v1/subscriptions/:id/resume", ({ core, path }) => {
    const sub = core.subscription(path.id ?? "", "id");
    resumeSubscription(core, sub);
    return buildSubscription(core, sub);
  });

  router.del("/v1/subscriptions/:id", ({ core, p, path }) => {
    const sub = core.subscription(path.id ?? "", "id");
    if (sub.status === "canceled") {
      throw invalidRequest(`No such subscription: '${sub.id}'`, "id", "resource_missing");
    }
    const details = p.obj("cancellation_details");
    if (details) {
      sub.cancellation_details.comment = details.str("comment") ?? sub.cancellation_details.comment;
      sub.cancellation_details.feedback = details.str("feedback") ?? sub.cancellation_details.feedback;
    }
    cancelSubscriptionNow(core, sub, {
      prorate: p.bool("prorate") ?? false,
      invoiceNow: p.bool("invoice_now") ?? false,
      reason: "cancellation_requested",
    });
    return buildSubscription(core, sub);
  });

  router.get("/v1/subscription_items", ({ core, p, url }) => {
    const sub = core.subscription(p.reqStr("subscription"));
    const items = sub.items.map((item, index) => ({ ...item, seq: -index }));
    return paginate(items, p, url, (item) => buildSubscriptionItem(core, sub, item));
  });

  router.get("/v1/subscription_items/:id", ({ core, path }) => {
    const { sub, item } = findItem(core, path.id ?? "");
    return buildSubscriptionItem(core, sub, item);
  });

  router.post("/v1/subscription_items/:id", ({ core, p, path }) => {
    const { sub, item } = findItem(core, path.id ?? "");
    const itemRaw: Record<string, unknown> = { id: item.id };
    for (const key of ["price", "plan", "price_data", "quantity", "metadata", "tax_rates"]) {
      if (p.raw[key] !== undefined) itemRaw[key] = p.raw[key];
    }
    const raw: Record<string, unknown> = { items: [itemRaw] };
    for (const key of ["proration_behavior", "proration_date", "payment_behavior"]) {
      if (p.raw[key] !== undefined) raw[key] = p.raw[key];
    }
    updateSubscription(core, sub, new Params(raw));
    const updated = core.subscription(sub.id).items.find((i) => i.id === item.id);
    if (!updated) throw resourceMissing("subscription_item", item.id, "id");
    return buildSubscriptionItem(core, sub, updated);
  });
}
