import { z } from "zod";
import { withRequestKey } from "../../idempotency.ts";
import {
  archiveMinutePack,
  createMinutePack,
  listMinutePacks,
  packLedgerView,
  syncMinutePackToStripe,
  ZMinutePackInputSchema,
} from "../../services/packs/index.ts";
import { adminProcedure, idempotent, router, ZNoInputRequestSchema } from "../../trpc.ts";

const ZPackIdSchema = withRequestKey(z.strictObject({ id: z.uuid("Not a pack id") }));

export const adminPacksRouter = router({
  /** Every pack, archived ones included. */
  list: adminProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => listMinutePacks(ctx, { includeArchived: true })),
  /** Defines a pack (audited) and syncs it to Stripe as a product with a one-time price. */
  create: adminProcedure
    .input(withRequestKey(ZMinutePackInputSchema))
    .use(idempotent())
    .mutation(({ ctx, input }) => {
      const { requestKey: _key, ...pack } = input;
      return createMinutePack(ctx, ctx.viewer, pack);
    }),
  /** No new purchases; packs bought keep their minutes until they expire. */
  archive: adminProcedure
    .input(ZPackIdSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => archiveMinutePack(ctx, ctx.viewer, input.id)),
  /** Retries the Stripe sync of a pack whose last sync failed. */
  sync: adminProcedure
    .input(ZPackIdSchema)
    .use(idempotent())
    .mutation(async ({ ctx, input }) => {
      await syncMinutePackToStripe(ctx, input.id);
      return { ok: true as const };
    }),
  /** One customer's pack minutes: balance, ledger per pack and per period. */
  customerLedger: adminProcedure
    .input(z.strictObject({ accountId: z.uuid("Not a customer id") }))
    .query(({ ctx, input }) => packLedgerView(ctx, input.accountId)),
});
