import { z } from "zod";
import { withRequestKey } from "../../idempotency.ts";
import {
  createPackage,
  listPackagesForAdmin,
  reorderPackages,
  setPackageActive,
  syncPackageToStripe,
  updatePackage,
  ZPackageInputSchema,
} from "../../services/catalog/index.ts";
import { adminProcedure, idempotent, router, ZNoInputRequestSchema } from "../../trpc.ts";

const ZPackageIdSchema = withRequestKey(z.strictObject({ id: z.uuid("Not a package id") }));

export const adminPackagesRouter = router({
  /** Every package, archived ones included, with every field, its Stripe prices and subscriber counts. */
  list: adminProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => listPackagesForAdmin(ctx)),
  create: adminProcedure
    .input(withRequestKey(ZPackageInputSchema))
    .use(idempotent())
    .mutation(({ ctx, input }) => createPackage(ctx, ctx.viewer, input)),
  update: adminProcedure
    .input(ZPackageIdSchema.extend({ values: ZPackageInputSchema }))
    .use(idempotent())
    .mutation(({ ctx, input }) => updatePackage(ctx, ctx.viewer, input.id, input.values)),
  archive: adminProcedure
    .input(ZPackageIdSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => setPackageActive(ctx, ctx.viewer, input.id, false)),
  unarchive: adminProcedure
    .input(ZPackageIdSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => setPackageActive(ctx, ctx.viewer, input.id, true)),
  reorder: adminProcedure
    .input(withRequestKey(z.strictObject({ ids: z.array(z.uuid()).min(1).max(200) })))
    .use(idempotent())
    .mutation(({ ctx, input }) => reorderPackages(ctx, ctx.viewer, input.ids)),
  /** Retries the Stripe sync of a package whose last sync failed. */
  sync: adminProcedure
    .input(ZPackageIdSchema)
    .use(idempotent())
    .mutation(async ({ ctx, input }) => {
      await syncPackageToStripe(ctx, input.id);
      return { ok: true as const };
    }),
});
