import { z } from "zod";
import { withRequestKey } from "../../idempotency.ts";
import { applyCouponToSubscription } from "../../services/admin/index.ts";
import {
  archiveCoupon,
  archivePromotionCode,
  couponRules,
  createCoupon,
  createPromotionCode,
  listCouponsForAdmin,
  syncCouponToStripe,
  ZCouponFieldsSchema,
  ZPromotionCodeInputSchema,
} from "../../services/catalog/index.ts";
import { adminProcedure, idempotent, router, ZNoInputRequestSchema } from "../../trpc.ts";

const ZCouponIdSchema = withRequestKey(z.strictObject({ id: z.uuid("Not a coupon id") }));
const ZPromotionCodeIdSchema = withRequestKey(z.strictObject({ id: z.uuid("Not a promotion code id") }));
export const ZApplyCouponRequestSchema = withRequestKey(
  z.strictObject({ accountId: z.uuid("Not a customer id"), couponId: z.uuid("Not a coupon id") }),
);

export const adminCouponsRouter = router({
  /** Every coupon, archived ones included, newest first, with its promotion codes. */
  list: adminProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => listCouponsForAdmin(ctx)),
  create: adminProcedure
    .input(withRequestKey(ZCouponFieldsSchema).superRefine(couponRules))
    .use(idempotent())
    .mutation(({ ctx, input }) => createCoupon(ctx, ctx.viewer, input)),
  /** No new redemptions (its codes too); discounts already on subscriptions keep running. */
  archive: adminProcedure
    .input(ZCouponIdSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => archiveCoupon(ctx, ctx.viewer, input.id)),
  createCode: adminProcedure
    .input(withRequestKey(ZPromotionCodeInputSchema))
    .use(idempotent())
    .mutation(({ ctx, input }) => createPromotionCode(ctx, ctx.viewer, input)),
  archiveCode: adminProcedure
    .input(ZPromotionCodeIdSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => archivePromotionCode(ctx, ctx.viewer, input.id)),
  /** Retries the Stripe sync of a coupon (and its codes) whose last sync failed. */
  sync: adminProcedure
    .input(ZCouponIdSchema)
    .use(idempotent())
    .mutation(async ({ ctx, input }) => {
      await syncCouponToStripe(ctx, input.id);
      return { ok: true as const };
    }),
  /** Puts the coupon on one customer's current subscription (replacing its discount), from now on. */
  applyToSubscription: adminProcedure
    .input(ZApplyCouponRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) =>
      applyCouponToSubscription(ctx, ctx.viewer, {
        accountId: input.accountId,
        couponId: input.couponId,
        requestKey: input.requestKey,
      }),
    ),
});
