import { z } from "zod";
import { ZRequestKeySchema } from "../idempotency.ts";
import {
  assertMayBuyPacks,
  autoTopUpView,
  buyPackWithCheckout,
  buyPackWithSavedCard,
  listOfferedPacks,
  packLedgerView,
  setAutoTopUp,
  ZAutoTopUpInputSchema,
} from "../services/packs/index.ts";
import { accountProcedure, idempotent, router, ZNoInputRequestSchema } from "../trpc.ts";

/** A purchase names the pack and carries the key that makes a retry the same payment (required). */
export const ZBuyPackRequestSchema = z.strictObject({
  packId: z.uuid("Not a pack id"),
  requestKey: ZRequestKeySchema.unwrap(),
});

export const ZAutoTopUpRequestSchema = z.strictObject({
  settings: ZAutoTopUpInputSchema,
  requestKey: ZRequestKeySchema,
});

export const packsRouter = router({
  /** Packs on offer (active, priced at Stripe) in the account's subscription's currency. */
  list: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => listOfferedPacks(ctx, ctx.accountId)),
  /** The pack balance with expiry dates and the ledger (bought = used + expired + remaining). */
  ledger: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => packLedgerView(ctx, ctx.accountId)),
  /** Hosted Checkout in payment mode; the pack is granted once the payment's webhook arrives. */
  buyWithCheckout: accountProcedure
    .input(ZBuyPackRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => {
      assertMayBuyPacks(ctx, { ...ctx.viewer, accountId: ctx.accountId });
      const base = ctx.settings.appUrl;
      return buyPackWithCheckout(ctx, ctx.accountId, {
        packId: input.packId,
        requestKey: input.requestKey,
        successUrl: `${base}/usage?pack=bought`,
        cancelUrl: `${base}/usage?pack=cancelled`,
      });
    }),
  /** Charges the saved card off-session; 402 with the reason when declined or 3-D Secure is asked for. */
  buyWithSavedCard: accountProcedure
    .input(ZBuyPackRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => {
      assertMayBuyPacks(ctx, { ...ctx.viewer, accountId: ctx.accountId });
      return buyPackWithSavedCard(ctx, ctx.accountId, { packId: input.packId, requestKey: input.requestKey });
    }),
  autoTopUp: router({
    get: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => autoTopUpView(ctx, ctx.accountId)),
    /** Sets (settings null: turns off) auto top-up; saving lifts a stop left by a failed top-up. Audited. */
    set: accountProcedure
      .input(ZAutoTopUpRequestSchema)
      .use(idempotent())
      .mutation(({ ctx, input }) => setAutoTopUp(ctx, ctx.viewer, ctx.accountId, input.settings)),
  }),
});
