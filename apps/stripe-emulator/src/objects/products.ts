import type Stripe from "stripe";
import type { ProductRec } from "../state.ts";

export function buildProduct(rec: ProductRec): Stripe.Product {
  return {
    id: rec.id,
    object: "product",
    active: rec.active,
    created: rec.created,
    default_price: rec.default_price,
    description: rec.description,
    images: rec.images,
    livemode: false,
    marketing_features: [],
    metadata: rec.metadata,
    name: rec.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: rec.statement_descriptor,
    tax_code: rec.tax_code,
    tax_details: null,
    type: "service",
    unit_label: rec.unit_label,
    updated: rec.updated,
    url: rec.url,
  };
}
