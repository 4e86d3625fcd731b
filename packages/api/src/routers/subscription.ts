import { z } from "zod";
import {
  billingHistory,
  cancel,
  cancelScheduledChange,
  completeCheckout,
  downgrade,
  previewUpgrade,
  resume,
  startPaymentMethodUpdate,
  subscribe,
  subscriptionOverview,
  upgrade,
} from "../services/subscriptions.ts";
import { accountProcedure, router, ZNoInputRequestSchema } from "../trpc.ts";

const packageId = z.uuid("Choose a package");
/** A key the client generates once per intent (a click): retries and double clicks reuse it. */
const requestKey = z
  .string()
  .regex(/^[\w-]{8,64}$/, "Use 8 to 64 letters, digits, _ or -")
  .optional();

export const ZSubscribeRequestSchema = z.strictObject({
  packageId,
  paymentMethodId: z
    .string()
    .regex(/^pm_\w+$/, "Use a Stripe payment method id such as pm_card_visa")
    .optional(),
  requestKey,
});
export const ZUpgradeRequestSchema = z.strictObject({ packageId, prorationDate: z.date() });
export const ZDowngradeRequestSchema = z.strictObject({
  packageId,
  keepAgentIds: z.array(z.uuid()).max(1000).optional(),
});

const accountOf = (ctx: { accountId: string; viewer: { email: string; name: string } }) => ({
  accountId: ctx.accountId,
  email: ctx.viewer.email,
  name: ctx.viewer.name,
});

export const subscriptionRouter = router({
  overview: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => subscriptionOverview(ctx, ctx.accountId)),
  subscribe: accountProcedure
    .input(ZSubscribeRequestSchema)
    .mutation(({ ctx, input }) => subscribe(ctx, accountOf(ctx), input)),
  completeCheckout: accountProcedure
    .input(z.strictObject({ sessionId: z.string().regex(/^cs_\w+$/, "Not a checkout session id") }))
    .mutation(({ ctx, input }) => completeCheckout(ctx, ctx.accountId, input.sessionId)),
  previewUpgrade: accountProcedure
    .input(z.strictObject({ packageId }))
    .query(({ ctx, input }) => previewUpgrade(ctx, ctx.accountId, input.packageId)),
  upgrade: accountProcedure
    .input(ZUpgradeRequestSchema)
    .mutation(({ ctx, input }) => upgrade(ctx, accountOf(ctx), input)),
  downgrade: accountProcedure
    .input(ZDowngradeRequestSchema)
    .mutation(({ ctx, input }) => downgrade(ctx, accountOf(ctx), input)),
  cancelScheduledChange: accountProcedure
    .input(ZNoInputRequestSchema)
    .mutation(({ ctx }) => cancelScheduledChange(ctx, accountOf(ctx))),
  cancel: accountProcedure.input(ZNoInputRequestSchema).mutation(({ ctx }) => cancel(ctx, accountOf(ctx))),
  resume: accountProcedure.input(ZNoInputRequestSchema).mutation(({ ctx }) => resume(ctx, accountOf(ctx))),
  /** Hosted Checkout (setup mode) to replace a card after a failed payment. */
  updatePaymentMethod: accountProcedure
    .input(z.strictObject({ requestKey: z.string().regex(/^[\w-]{8,64}$/) }))
    .mutation(({ ctx, input }) => startPaymentMethodUpdate(ctx, accountOf(ctx), input.requestKey)),
  invoices: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => billingHistory(ctx, ctx.accountId)),
});
