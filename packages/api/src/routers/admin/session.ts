import { adminProcedure, router, ZNoInputRequestSchema } from "../../trpc.ts";

export const adminSessionRouter = router({
  /** The signed-in admin. Signed-out callers get UNAUTHORIZED, non-admins FORBIDDEN. */
  me: adminProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => ({ user: ctx.viewer, stripeEmulator: ctx.settings.stripeEmulator })),
});
