import { type EmulatorCore, embeddedList } from "../core.ts";
import type { Resolver } from "../expand.ts";
import { buildMeter } from "./billingMeters.ts";
import { buildCharge } from "./charges.ts";
import { buildCheckoutSession, checkoutIncludable } from "./checkout.ts";
import { buildCustomer, buildDeletedCustomer } from "./customers.ts";
import { buildCoupon, buildDiscount, buildPromotionCode } from "./discounts.ts";
import { buildInvoiceItem } from "./invoiceItems.ts";
import { buildInvoice, invoiceIncludable } from "./invoices.ts";
import { buildInvoicePayment, buildPaymentIntent, buildSetupIntent } from "./paymentIntents.ts";
import { buildPaymentMethod } from "./paymentMethods.ts";
import { buildPrice, priceIncludable } from "./prices.ts";
import { buildProduct } from "./products.ts";
import { buildRefund } from "./refunds.ts";
import { buildSchedule } from "./schedules.ts";
import { buildSubscription, buildSubscriptionItem } from "./subscriptions.ts";
import { buildTaxId, buildTaxRate, customerTaxIds, findTaxRate } from "./taxes.ts";
import { buildTestClock } from "./testClocks.ts";
import { buildWebhookEndpoint } from "./webhookEndpoints.ts";

/** Builds any object the emulator knows by its id, for `expand[]`. */
export function objectById(core: EmulatorCore, id: string): object | undefined {
  const s = core.state;
  const [prefix] = id.split("_", 1);
  if (id.startsWith("sub_sched_")) {
    const rec = s.schedules[id];
    return rec ? buildSchedule(core, rec) : undefined;
  }
  if (id.startsWith("cs_")) {
    const rec = s.checkoutSessions[id];
    return rec ? buildCheckoutSession(core, rec) : undefined;
  }
  switch (prefix) {
    case "cus": {
      const rec = s.customers[id];
      if (!rec) return undefined;
      return rec.deleted ? buildDeletedCustomer(rec) : buildCustomer(core, rec);
    }
    case "pm": {
      const rec = s.paymentMethods[id];
      return rec ? buildPaymentMethod(rec) : undefined;
    }
    case "prod": {
      const rec = s.products[id];
      return rec ? buildProduct(rec) : undefined;
    }
    case "price": {
      const rec = s.prices[id];
      return rec ? buildPrice(rec) : undefined;
    }
    case "sub": {
      const rec = s.subscriptions[id];
      return rec ? buildSubscription(core, rec) : undefined;
    }
    case "si": {
      for (const sub of Object.values(s.subscriptions)) {
        const item = sub.items.find((i) => i.id === id);
        if (item) return buildSubscriptionItem(core, sub, item);
      }
      return undefined;
    }
    case "in": {
      const rec = s.invoices[id];
      return rec ? buildInvoice(core, rec) : undefined;
    }
    case "ii": {
      const rec = s.invoiceItems[id];
      return rec ? buildInvoiceItem(core, rec) : undefined;
    }
    case "pi": {
      const rec = s.paymentIntents[id];
      return rec ? buildPaymentIntent(core, rec) : undefined;
    }
    case "seti": {
      const rec = s.setupIntents[id];
      return rec ? buildSetupIntent(rec) : undefined;
    }
    case "ch": {
      const rec = s.charges[id];
      return rec ? buildCharge(rec) : undefined;
    }
    case "re": {
      const rec = s.refunds[id];
      return rec ? buildRefund(rec) : undefined;
    }
    case "inpay": {
      const rec = s.invoicePayments[id];
      return rec ? buildInvoicePayment(rec) : undefined;
    }
    case "clock": {
      const rec = s.testClocks[id];
      return rec ? buildTestClock(rec) : undefined;
    }
    case "we": {
      const rec = s.webhookEndpoints[id];
      return rec ? buildWebhookEndpoint(rec, false) : undefined;
    }
    case "mtr": {
      const rec = s.meters[id];
      return rec ? buildMeter(rec) : undefined;
    }
    case "txr": {
      const rec = findTaxRate(core, id);
      return rec ? buildTaxRate(rec) : undefined;
    }
    case "txi": {
      const rec = s.taxIds[id];
      return rec && !rec.deleted ? buildTaxId(rec) : undefined;
    }
    case "evt":
      return core.events.find((e) => e.id === id);
    case "di": {
      const rec = s.discounts[id];
      return rec ? buildDiscount(rec) : undefined;
    }
    case "promo": {
      const rec = s.promotionCodes[id];
      return rec ? buildPromotionCode(rec) : undefined;
    }
    default: {
      // Coupon ids are chosen freely (`SUMMER25`): expandable where a coupon is referenced.
      const coupon = s.coupons[id];
      return coupon ? buildCoupon(coupon) : undefined;
    }
  }
}

export function createResolver(core: EmulatorCore): Resolver {
  return {
    byId: (id) => objectById(core, id),
    includable: (owner, key) => {
      const id = typeof owner.id === "string" ? owner.id : "";
      switch (owner.object) {
        case "customer":
          if (key === "subscriptions") {
            const subs = Object.values(core.state.subscriptions).filter(
              (sub) => sub.customer === id && sub.status !== "canceled",
            );
            return embeddedList(
              subs.map((sub) => buildSubscription(core, sub)),
              `/v1/customers/${id}/subscriptions`,
            );
          }
          if (key === "tax_ids") {
            return embeddedList(customerTaxIds(core, id).map(buildTaxId), `/v1/customers/${id}/tax_ids`);
          }
          if (key === "sources") return embeddedList([], `/v1/customers/${id}/${key}`);
          return undefined;
        case "invoice":
          return invoiceIncludable(core, id, key);
        case "price": {
          const rec = core.state.prices[id];
          return rec ? priceIncludable(rec, key) : undefined;
        }
        case "checkout.session":
          return checkoutIncludable(core, id, key);
        default:
          return undefined;
      }
    },
  };
}
