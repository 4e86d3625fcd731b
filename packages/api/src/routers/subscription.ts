import { z } from "zod";
import { withRequestKey, ZRequestKeyOnlySchema, ZRequestKeySchema } from "../idempotency.ts";
import { creditsOf } from "../services/billing/index.ts";
import { checkPromotionCode, ZTypedCodeSchema } from "../services/catalog/index.ts";
import {
  billingHistory,
  cancel,
  cancelScheduledChange,
  completeCheckout,
  downgrade,
  invoiceOf,
  pauseSubscription,
  previewUpgrade,
  resume,
  resumePausedSubscription,
  startPaymentMethodUpdate,
  subscribe,
  subscriptionOverviewWithDiscount,
  upgrade,
} from "../services/subscriptions/index.ts";
import { accountProcedure, idempotent, router, ZNoInputRequestSchema } from "../trpc.ts";
import { ZInstantSchema } from "./dates.ts";

const packageId = z.uuid("Choose a package");
export const ZSubscribeRequestSchema = z.strictObject({
  packageId,
  paymentMethodId: z
    .string()
    .regex(/^pm_\w+$/, "Use a Stripe payment method id such as pm_card_visa")
    // Stripe's ids are about 27 characters; the id is part of Stripe idempotency keys (at most 255).
    .max(64, "Use a Stripe payment method id (at most 64 characters)")
    .optional(),
  /** A promotion code (any case); refused with a 400 naming promotionCode and why (expired, …). */
  promotionCode: ZTypedCodeSchema.optional(),
  /** Also the base of the Stripe idempotency keys, so a lost answer between Stripe and here is safe too. */
  requestKey: ZRequestKeySchema,
});
export const ZUpgradeRequestSchema = withRequestKey(
  z.strictObject({ packageId, prorationDate: ZInstantSchema }),
);
export const ZDowngradeRequestSchema = withRequestKey(
  z.strictObject({
    packageId,
    keepAgentIds: z.array(z.uuid()).max(1000).optional(),
  }),
);

/** How many billing periods a pause lasts (1-3), or null: until resumed. */
export const ZPausePeriodsSchema = z
  .union([z.literal(1), z.literal(2), z.literal(3)], { error: "must be 1, 2 or 3 billing periods, or null" })
  .nullable();
export const ZPauseRequestSchema = withRequestKey(z.strictObject({ periods: ZPausePeriodsSchema }));

const accountOf = (ctx: {
  accountId: string;
  viewer: { email: string; name: string; emailVerified?: boolean | undefined };
}) => ({
  accountId: ctx.accountId,
  email: ctx.viewer.email,
  name: ctx.viewer.name,
  emailVerified: ctx.viewer.emailVerified,
});

export const subscriptionRouter = router({
  overview: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => subscriptionOverviewWithDiscount(ctx, ctx.accountId)),
  subscribe: accountProcedure
    .input(ZSubscribeRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => subscribe(ctx, accountOf(ctx), input)),
  completeCheckout: accountProcedure
    .input(
      withRequestKey(
        z.strictObject({ sessionId: z.string().regex(/^cs_\w+$/, "Not a checkout session id") }),
      ),
    )
    .use(idempotent())
    .mutation(({ ctx, input }) => completeCheckout(ctx, ctx.accountId, input.sessionId)),
  /**
   * Whether a typed code discounts a package, with the discounted price, or why not (`invalid`, `inactive`,
   * `expired`, `exhausted`, `not_applicable`). The package page asks before Checkout; subscribe checks again.
   */
  checkPromotionCode: accountProcedure
    .input(z.strictObject({ packageId, code: ZTypedCodeSchema }))
    .query(({ ctx, input }) => checkPromotionCode(ctx, input)),
  previewUpgrade: accountProcedure
    .input(z.strictObject({ packageId }))
    .query(({ ctx, input }) => previewUpgrade(ctx, ctx.accountId, input.packageId)),
  upgrade: accountProcedure
    .input(ZUpgradeRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => upgrade(ctx, accountOf(ctx), input)),
  downgrade: accountProcedure
    .input(ZDowngradeRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => downgrade(ctx, accountOf(ctx), input)),
  cancelScheduledChange: accountProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => cancelScheduledChange(ctx, accountOf(ctx))),
  cancel: accountProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => cancel(ctx, accountOf(ctx))),
  resume: accountProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => resume(ctx, accountOf(ctx))),
  /** Pauses for 1-3 billing periods (or until resumed) from the end of the period paid. */
  pause: accountProcedure
    .input(ZPauseRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => pauseSubscription(ctx, ctx.accountId, input.periods)),
  /** Ends the pause now. */
  resumePause: accountProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => resumePausedSubscription(ctx, ctx.accountId)),
  /** Hosted Checkout (setup mode) to replace a card after a failed payment. */
  updatePaymentMethod: accountProcedure
    .input(z.strictObject({ requestKey: ZRequestKeySchema.unwrap() }))
    .use(idempotent())
    .mutation(({ ctx, input }) => startPaymentMethodUpdate(ctx, accountOf(ctx), input.requestKey)),
  invoices: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => billingHistory(ctx, ctx.accountId)),
  /** One of the account's invoices with its hosted page, PDF and what was given back (404 for another's). */
  invoice: accountProcedure
    .input(z.strictObject({ invoiceId: z.uuid("Not an invoice id") }))
    .query(({ ctx, input }) => invoiceOf(ctx, ctx.accountId, input.invoiceId)),
  /** Refunds and credits given to the account (invoice refunds, credit notes, balance credits), newest first. */
  credits: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => creditsOf(ctx, ctx.accountId)),
});
