import { adminProcedure, router } from "../../trpc.ts";

export const adminSessionRouter = router({
  /** The signed-in admin. Signed-out callers get UNAUTHORIZED, non-admins FORBIDDEN. */
  me: adminProcedure.query(({ ctx }) => ({ user: ctx.viewer, stripeEmulator: ctx.settings.stripeEmulator })),
});
