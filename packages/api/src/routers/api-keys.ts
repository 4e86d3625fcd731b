import { z } from "zod";
import { withRequestKey } from "../idempotency.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../services/accounts/index.ts";
import { accountProcedure, idempotent, router, ZNoInputRequestSchema } from "../trpc.ts";

export const ZCreateApiKeyRequestSchema = withRequestKey(
  z.strictObject({
    name: z.string().trim().min(1, "Give the key a name").max(80, "Use at most 80 characters"),
  }),
);
export const ZRevokeApiKeyRequestSchema = withRequestKey(z.strictObject({ id: z.uuid("Not an API key id") }));

export const apiKeysRouter = router({
  list: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => listApiKeys(ctx, ctx.accountId)),
  create: accountProcedure
    .input(ZCreateApiKeyRequestSchema)
    // A replay shows the full key again only to the same session, within minutes (idempotency.ts).
    .use(idempotent({ secretField: "key" }))
    .mutation(({ ctx, input }) => createApiKey(ctx, { ...ctx.viewer, accountId: ctx.accountId }, input.name)),
  revoke: accountProcedure
    .input(ZRevokeApiKeyRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => revokeApiKey(ctx, ctx.accountId, input.id)),
});
