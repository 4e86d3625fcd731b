import { createPrice } from "../billing/catalog.ts";
import { paginate } from "../core.ts";
import { invalidRequest } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildPrice } from "../objects/prices.ts";
import { searchRecords } from "../search.ts";

const MUTABLE_PRICE_FIELDS = new Set([
  "active",
  "metadata",
  "nickname",
  "lookup_key",
  "transfer_lookup_key",
  "tax_behavior",
  "expand",
  "currency_options",
]);

export function registerPrices(router: Router): void {
  router.post("/v1/prices", ({ core, p }) => buildPrice(createPrice(core, p)));

  router.get("/v1/prices", ({ core, p, url }) => {
    const product = p.str("product");
    const active = p.bool("active");
    const type = p.str("type");
    const currency = p.str("currency");
    const lookupKeys = p.strList("lookup_keys");
    const interval = p.obj("recurring")?.str("interval");
    const items = Object.values(core.state.prices).filter(
      (price) =>
        (product === undefined || price.product === product) &&
        (active === undefined || price.active === active) &&
        (type === undefined || (type === "recurring") === (price.recurring !== null)) &&
        (currency === undefined || price.currency === currency) &&
        (lookupKeys === undefined || (price.lookup_key !== null && lookupKeys.includes(price.lookup_key))) &&
        (interval === undefined || price.recurring?.interval === interval),
    );
    return paginate(items, p, url, buildPrice);
  });

  router.get("/v1/prices/search", ({ core, p, url }) =>
    searchRecords(
      Object.values(core.state.prices),
      p,
      url,
      (price, field) => {
        if (field === "active") return String(price.active);
        if (field === "lookup_key") return price.lookup_key;
        if (field === "product") return price.product;
        if (field === "currency") return price.currency;
        if (field === "type") return price.recurring ? "recurring" : "one_time";
        return undefined;
      },
      buildPrice,
    ),
  );

  router.get("/v1/prices/:id", ({ core, path }) => buildPrice(core.price(path.id ?? "", "id")));

  router.post("/v1/prices/:id", ({ core, p, path }) => {
    const rec = core.price(path.id ?? "", "id");
    for (const key of p.keys()) {
      if (!MUTABLE_PRICE_FIELDS.has(key)) {
        // Prices are immutable in Stripe: amount, currency, interval and product cannot change.
        throw invalidRequest(`Received unknown parameter: ${key}`, key, "parameter_unknown");
      }
    }
    const before = buildPrice(rec);
    if (p.has("active")) rec.active = p.bool("active") ?? rec.active;
    if (p.has("nickname")) rec.nickname = p.nullableStr("nickname") ?? null;
    if (p.has("lookup_key")) {
      const lookupKey = p.nullableStr("lookup_key") ?? null;
      if (lookupKey !== null) {
        const holder = Object.values(core.state.prices).find(
          (pr) => pr.lookup_key === lookupKey && pr.id !== rec.id,
        );
        if (holder) {
          if (p.bool("transfer_lookup_key")) holder.lookup_key = null;
          else throw invalidRequest(`A price (\`${holder.id}\`) already uses that lookup key.`, "lookup_key");
        }
      }
      rec.lookup_key = lookupKey;
    }
    const taxBehavior = p.oneOf("tax_behavior", ["exclusive", "inclusive", "unspecified"] as const);
    if (taxBehavior) {
      if (rec.tax_behavior !== "unspecified" && rec.tax_behavior !== taxBehavior) {
        throw invalidRequest("tax_behavior cannot be changed once it is set.", "tax_behavior");
      }
      rec.tax_behavior = taxBehavior;
    }
    rec.metadata = p.metadata("metadata", rec.metadata);
    core.emitUpdate("price.updated", before, buildPrice(rec));
    return buildPrice(rec);
  });
}
