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
import { accountProcedure, router } from "../trpc.ts";

const packageId = z.uuid("Choose a package");
/** A key the client generates once per intent (a click): retries and double clicks reuse it. */
const requestKey = z
  .string()
  .regex(/^[\w-]{8,64}$/, "Use 8 to 64 letters, digits, _ or -")
  .optional();

export const ZSubscribeRequestSchema = z.object({
  packageId,
  paymentMethodId: z
    .string()
    .regex(/^pm_\w+$/, "Use a Stripe payment method id such as pm_card_visa")
    .optional(),
  requestKey,
});
export const ZUpgradeRequestSchema = z.object({ packageId, prorationDate: z.date() });
export const ZDowngradeRequestSchema = z.object({
  packageId,
  keepAgentIds: z.array(z.uuid()).max(1000).optional(),
});

const accountOf = (ctx: { accountId: string; viewer: { email: string; name: string } }) => ({
  accountId: ctx.accountId,
  email: ctx.viewer.email,
  name: ctx.viewer.name,
});

export const subscriptionRouter = router({
  overview: accountProcedure.query(({ ctx }) => subscriptionOverview(ctx, ctx.accountId)),
  subscribe: accountProcedure
    .input(ZSubscribeRequestSchema)
    .mutation(({ ctx, input }) => subscribe(ctx, accountOf(ctx), input)),
  completeCheckout: accountProcedure
    .input(z.object({ sessionId: z.string().regex(/^cs_\w+$/, "Not a checkout session id") }))
    .mutation(({ ctx, input }) => completeCheckout(ctx, ctx.accountId, input.sessionId)),
  previewUpgrade: accountProcedure
    .input(z.object({ packageId }))
    .query(({ ctx, input }) => previewUpgrade(ctx, ctx.accountId, input.packageId)),
  upgrade: accountProcedure
    .input(ZUpgradeRequestSchema)
    .mutation(({ ctx, input }) => upgrade(ctx, accountOf(ctx), input)),
  downgrade: accountProcedure
    .input(ZDowngradeRequestSchema)
    .mutation(({ ctx, input }) => downgrade(ctx, accountOf(ctx), input)),
  cancelScheduledChange: accountProcedure.mutation(({ ctx }) => cancelScheduledChange(ctx, accountOf(ctx))),
  cancel: accountProcedure.mutation(({ ctx }) => cancel(ctx, accountOf(ctx))),
  resume: accountProcedure.mutation(({ ctx }) => resume(ctx, accountOf(ctx))),
  /** Hosted Checkout (setup mode) to replace a card after a failed payment. */
  updatePaymentMethod: accountProcedure
    .input(z.object({ requestKey: z.string().regex(/^[\w-]{8,64}$/) }))
    .mutation(({ ctx, input }) => startPaymentMethodUpdate(ctx, accountOf(ctx), input.requestKey)),
  invoices: accountProcedure.query(({ ctx }) => billingHistory(ctx, ctx.accountId)),
});
