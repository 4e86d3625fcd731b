import { z } from "zod";
import { withRequestKey } from "../idempotency.ts";
import {
  activateAgent,
  createAgent,
  deactivateAgent,
  listAgents,
  MAX_AGENT_NAME_LENGTH,
  renameAgent,
} from "../services/accounts/index.ts";
import { accountProcedure, idempotent, router, ZNoInputRequestSchema } from "../trpc.ts";

const ZAgentNameSchema = z
  .string({ error: "Enter a name for the agent." })
  .trim()
  .min(1, "Enter a name for the agent.")
  .max(MAX_AGENT_NAME_LENGTH, `Use at most ${MAX_AGENT_NAME_LENGTH} characters.`);

export const ZAgentCreateRequestSchema = withRequestKey(z.strictObject({ name: ZAgentNameSchema }));
export const ZAgentRenameRequestSchema = withRequestKey(
  z.strictObject({
    id: z.uuid("Choose an agent."),
    name: ZAgentNameSchema,
  }),
);
export const ZAgentIdRequestSchema = withRequestKey(z.strictObject({ id: z.uuid("Choose an agent.") }));

export const agentsRouter = router({
  /** The account's agents with the package's allowance ("N of M active"). */
  list: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => listAgents(ctx, ctx.accountId)),
  /** CONFLICT when the package's active-agent allowance is used up; PRECONDITION_FAILED without a package. */
  create: accountProcedure
    .input(ZAgentCreateRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => createAgent(ctx, ctx.accountId, input)),
  rename: accountProcedure
    .input(ZAgentRenameRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => renameAgent(ctx, ctx.accountId, input)),
  deactivate: accountProcedure
    .input(ZAgentIdRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => deactivateAgent(ctx, ctx.accountId, input)),
  /** Same allowance check as create. */
  activate: accountProcedure
    .input(ZAgentIdRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => activateAgent(ctx, ctx.accountId, input)),
});
