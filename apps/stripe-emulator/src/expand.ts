import { invalidRequest } from "./errors.ts";
import { isRecord } from "./params.ts";

export interface Resolver {
  /** Builds the full object for an id (`cus_...` → customer), or undefined when it is not an object id. */
  byId(id: string): object | undefined;
  /** Fields that Stripe only includes on request (`customer.subscriptions`, `invoice.payments`, ...). */
  includable(owner: Record<string, unknown>, key: string): unknown;
}

const MAX_DEPTH = 4;

/**
 * The expandable properties of each object the emulator renders (the SDK declares them `string | X`),
 * as paths relative to the object: arrays are walked through without a segment of their own, so
 * `phases.items.price` is the price of every item of every phase.
 */
const EXPANDABLE: Record<string, readonly string[]> = {
  customer: ["default_source", "invoice_settings.default_payment_method", "test_clock"],
  payment_method: ["customer"],
  product: ["default_price", "tax_code"],
  price: ["product"],
  plan: ["product"],
  subscription: [
    "application",
    "customer",
    "default_payment_method",
    "default_source",
    "discounts",
    "latest_invoice",
    "on_behalf_of",
    "pending_setup_intent",
    "schedule",
    "test_clock",
    "transfer_data.destination",
    "invoice_settings.account_tax_ids",
  ],
  subscription_item: ["discounts"],
  subscription_schedule: [
    "application",
    "customer",
    "subscription",
    "test_clock",
    "default_settings.default_payment_method",
    "default_settings.on_behalf_of",
    "phases.default_payment_method",
    "phases.on_behalf_of",
    "phases.items.price",
    "phases.items.plan",
    "phases.add_invoice_items.price",
  ],
  invoice: [
    "account_tax_ids",
    "application",
    "customer",
    "default_payment_method",
    "default_source",
    "discounts",
    "latest_revision",
    "on_behalf_of",
    "test_clock",
    "from_invoice.invoice",
    "parent.subscription_details.subscription",
  ],
  line_item: ["discounts", "subscription", "pricing.price_details.price"],
  invoiceitem: ["customer", "discounts", "invoice", "test_clock", "pricing.price_details.price"],
  invoice_payment: ["invoice", "payment.charge", "payment.payment_intent", "payment.payment_record"],
  payment_intent: [
    "application",
    "customer",
    "latest_charge",
    "on_behalf_of",
    "payment_method",
    "payment_record",
    "review",
    "source",
    "transfer_data.destination",
  ],
  setup_intent: [
    "application",
    "customer",
    "latest_attempt",
    "mandate",
    "on_behalf_of",
    "payment_method",
    "single_use_mandate",
  ],
  refund: [
    "balance_transaction",
    "charge",
    "customer",
    "failure_balance_transaction",
    "payment_intent",
    "payment_method",
    "source_transfer_reversal",
    "transfer_reversal",
  ],
  "checkout.session": [
    "customer",
    "discounts.coupon",
    "discounts.promotion_code",
    "invoice",
    "payment_intent",
    "payment_link",
    "setup_intent",
    "subscription",
  ],
  item: ["price.product"],
  discount: ["customer", "promotion_code", "source.coupon"],
  promotion_code: ["customer", "promotion.coupon"],
};

/** Objects whose only walkable property is `data` (lists and search results). */
const LISTS = new Set(["list", "search_result"]);

/**
 * Applies Stripe's `expand[]` to a rendered response: each dotted path replaces an id string with the
 * object it names; `data.` walks into lists. A path that names no expandable property raises Stripe's
 * error, inside the request's transaction (nothing it changed is kept). In a list the path is checked on
 * its items, so an empty list cannot reveal a wrong one.
 */
export function applyExpand(value: unknown, paths: string[], resolver: Resolver): unknown {
  let result = value;
  for (const path of paths) {
    const segments = path.split(".");
    if (segments.length > MAX_DEPTH) {
      throw expandError(`You cannot expand more than ${MAX_DEPTH} levels of a property. Property: ${path}`);
    }
    result = expandSegments(result, segments, resolver, { path, owner: undefined, relative: "" });
  }
  return result;
}

function expandError(message: string): ReturnType<typeof invalidRequest> {
  const error = invalidRequest(message, "expand");
  error.validation = true;
  return error;
}

interface Walk {
  /** The whole `expand[]` entry, for messages. */
  path: string;
  /** `object` of the nearest enclosing Stripe object. */
  owner: string | undefined;
  /** Path from that object to here. */
  relative: string;
}

function expandSegments(value: unknown, segments: string[], resolver: Resolver, walk: Walk): unknown {
  const [head, ...rest] = segments;
  if (head === undefined) return value;
  if (Array.isArray(value)) return value.map((item) => expandSegments(item, segments, resolver, walk));
  if (!isRecord(value)) return value;
  let owner = walk.owner;
  let relative = walk.relative;
  if (typeof value.object === "string") {
    owner = value.object;
    relative = "";
  }
  const key = relative ? `${relative}.${head}` : head;
  let child = value[head];
  if (owner !== undefined && LISTS.has(owner) && relative === "") {
    if (head !== "data" || rest.length === 0) {
      const data = value.data;
      const first = Array.isArray(data) ? data[0] : undefined;
      if (head !== "data" && isRecord(first) && head in first) {
        throw expandError(
          `This property cannot be expanded (${head}). You may want to try expanding 'data.${head}' instead.`,
        );
      }
      throw expandError(`This property cannot be expanded (${walk.path}).`);
    }
    value.data = expandSegments(child, rest, resolver, { ...walk, owner, relative: key });
    return value;
  }
  const expandable = owner !== undefined && (EXPANDABLE[owner] ?? []).includes(key);
  if (child === undefined) {
    child = resolver.includable(value, head);
    if (child === undefined) throw expandError(`This property cannot be expanded (${walk.path}).`);
  } else if (expandable) {
    if (typeof child === "string") child = resolver.byId(child) ?? child;
    else if (Array.isArray(child))
      child = child.map((item) => (typeof item === "string" ? (resolver.byId(item) ?? item) : item));
  } else if (rest.length === 0 || (!isRecord(child) && !Array.isArray(child))) {
    // A plain field (`email`), or a hash that is always returned whole (`invoice_settings`).
    throw expandError(`This property cannot be expanded (${walk.path}).`);
  }
  value[head] =
    rest.length > 0 ? expandSegments(child, rest, resolver, { ...walk, owner, relative: key }) : child;
  return value;
}
