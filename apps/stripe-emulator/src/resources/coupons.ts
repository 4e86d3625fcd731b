import type Stripe from "stripe";
import { coupon, createCoupon, createPromotionCode, promotionCode } from "../billing/discounts.ts";
import { paginate } from "../core.ts";
import type { Router } from "../http/router.ts";
import { buildCoupon, buildPromotionCode } from "../objects/discounts.ts";

export function registerCoupons(router: Router): void {
  router.post("/v1/coupons", ({ core, p }) => buildCoupon(createCoupon(core, p)));

  router.get("/v1/coupons", ({ core, p, url }) =>
    paginate(
      Object.values(core.state.coupons).filter((rec) => !rec.deleted),
      p,
      url,
      buildCoupon,
    ),
  );

  router.get("/v1/coupons/:id", ({ core, path }) => buildCoupon(coupon(core, path.id ?? "", "id")));

  router.post("/v1/coupons/:id", ({ core, p, path }) => {
    const rec = coupon(core, path.id ?? "", "id");
    const before = buildCoupon(rec);
    if (p.has("name")) rec.name = p.nullableStr("name") ?? null;
    rec.metadata = p.metadata("metadata", rec.metadata);
    core.emitUpdate("coupon.updated", before, buildCoupon(rec));
    return buildCoupon(rec);
  });

  router.del("/v1/coupons/:id", ({ core, path }) => {
    const rec = coupon(core, path.id ?? "", "id");
    rec.deleted = true;
    core.emit("coupon.deleted", buildCoupon(rec));
    return { id: rec.id, object: "coupon", deleted: true } satisfies Stripe.DeletedCoupon;
  });

  router.post("/v1/promotion_codes", ({ core, p }) => buildPromotionCode(createPromotionCode(core, p)));

  router.get("/v1/promotion_codes", ({ core, p, url }) => {
    const active = p.bool("active");
    const code = p.str("code");
    const couponId = p.str("coupon");
    const customer = p.str("customer");
    const items = Object.values(core.state.promotionCodes).filter(
      (rec) =>
        (active === undefined || rec.active === active) &&
        (code === undefined || rec.code.toLowerCase() === code.toLowerCase()) &&
        (couponId === undefined || rec.coupon === couponId) &&
        (customer === undefined || rec.customer === customer),
    );
    return paginate(items, p, url, buildPromotionCode);
  });

  router.get("/v1/promotion_codes/:id", ({ core, path }) =>
    buildPromotionCode(promotionCode(core, path.id ?? "", "id")),
  );

  router.post("/v1/promotion_codes/:id", ({ core, p, path }) => {
    const rec = promotionCode(core, path.id ?? "", "id");
    const before = buildPromotionCode(rec);
    if (p.has("active")) rec.active = p.bool("active") ?? rec.active;
    rec.metadata = p.metadata("metadata", rec.metadata);
    core.emitUpdate("promotion_code.updated", before, buildPromotionCode(rec));
    return buildPromotionCode(rec);
  });
}
