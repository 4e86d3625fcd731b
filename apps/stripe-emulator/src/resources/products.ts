import type Stripe from "stripe";
import { createProduct } from "../billing/catalog.ts";
import { paginate } from "../core.ts";
import { invalidRequest } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildProduct } from "../objects/products.ts";
import { searchRecords } from "../search.ts";

export function registerProducts(router: Router): void {
  router.post("/v1/products", ({ core, p }) => {
    const rec = createProduct(core, p);
    const defaultPriceData = p.obj("default_price_data");
    if (defaultPriceData) {
      throw invalidRequest(
        "default_price_data is not supported by the Stripe emulator; create a price.",
        "default_price_data",
      );
    }
    return buildProduct(rec);
  });

  router.get("/v1/products", ({ core, p, url }) => {
    const active = p.bool("active");
    const ids = p.strList("ids");
    const items = Object.values(core.state.products).filter(
      (prod) =>
        !prod.deleted &&
        (active === undefined || prod.active === active) &&
        (ids === undefined || ids.includes(prod.id)),
    );
    return paginate(items, p, url, buildProduct);
  });

  router.get("/v1/products/search", ({ core, p, url }) =>
    searchRecords(
      Object.values(core.state.products).filter((prod) => !prod.deleted),
      p,
      url,
      (prod, field) => (field === "name" ? prod.name : field === "active" ? String(prod.active) : undefined),
      buildProduct,
    ),
  );

  router.get("/v1/products/:id", ({ core, path }) => {
    const rec = core.state.products[path.id ?? ""];
    if (rec?.deleted) return { id: rec.id, object: "product", deleted: true } satisfies Stripe.DeletedProduct;
    return buildProduct(core.product(path.id ?? "", "id"));
  });

  router.post("/v1/products/:id", ({ core, p, path }) => {
    const rec = core.product(path.id ?? "", "id");
    const before = buildProduct(rec);
    if (p.has("name")) rec.name = p.reqStr("name");
    if (p.has("description")) rec.description = p.nullableStr("description") ?? null;
    if (p.has("active")) rec.active = p.bool("active") ?? rec.active;
    if (p.has("images")) rec.images = p.strList("images") ?? [];
    if (p.has("url")) rec.url = p.nullableStr("url") ?? null;
    if (p.has("unit_label")) rec.unit_label = p.nullableStr("unit_label") ?? null;
    if (p.has("statement_descriptor"))
      rec.statement_descriptor = p.nullableStr("statement_descriptor") ?? null;
    if (p.has("tax_code")) rec.tax_code = p.nullableStr("tax_code") ?? null;
    if (p.has("default_price")) {
      const priceId = p.nullableStr("default_price") ?? null;
      if (priceId !== null) {
        const price = core.price(priceId, "default_price");
        if (price.product !== rec.id)
          throw invalidRequest("The default price must belong to this product.", "default_price");
      }
      rec.default_price = priceId;
    }
    rec.metadata = p.metadata("metadata", rec.metadata);
    rec.updated = core.realNow();
    core.emitUpdate("product.updated", before, buildProduct(rec));
    return buildProduct(rec);
  });

  router.del("/v1/products/:id", ({ core, path }) => {
    const rec = core.product(path.id ?? "", "id");
    if (Object.values(core.state.prices).some((price) => price.product === rec.id)) {
      throw invalidRequest("This product cannot be deleted because it has one or more user-created prices.");
    }
    rec.deleted = true;
    core.emit("product.deleted", buildProduct(rec));
    return { id: rec.id, object: "product", deleted: true } satisfies Stripe.DeletedProduct;
  });
}
