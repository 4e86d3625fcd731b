import { z } from "zod";
import { createApiKey, listApiKeys, revokeApiKey } from "../services/api-keys.ts";
import { accountProcedure, router, ZNoInputRequestSchema } from "../trpc.ts";

export const ZCreateApiKeyRequestSchema = z.strictObject({
  name: z.string().trim().min(1, "Give the key a name").max(80, "Use at most 80 characters"),
});
export const ZRevokeApiKeyRequestSchema = z.strictObject({ id: z.uuid("Not an API key id") });

export const apiKeysRouter = router({
  list: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => listApiKeys(ctx, ctx.accountId)),
  create: accountProcedure
    .input(ZCreateApiKeyRequestSchema)
    .mutation(({ ctx, input }) => createApiKey(ctx, { ...ctx.viewer, accountId: ctx.accountId }, input.name)),
  revoke: accountProcedure
    .input(ZRevokeApiKeyRequestSchema)
    .mutation(({ ctx, input }) => revokeApiKey(ctx, ctx.accountId, input.id)),
});
