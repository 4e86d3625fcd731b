import { z } from "zod";
import { withRequestKey, ZRequestKeyOnlySchema } from "../idempotency.ts";
import {
  ASSIGNABLE_ROLES,
  acceptInvitation,
  changeMemberRole,
  invitationPreview,
  inviteMember,
  leaveAccount,
  myMemberships,
  removeMember,
  resendInvitation,
  revokeInvitation,
  switchAccount,
  teamView,
  transferOwnership,
} from "../services/accounts/index.ts";
import {
  accountProcedure,
  idempotent,
  publicProcedure,
  router,
  userProcedure,
  ZNoInputRequestSchema,
} from "../trpc.ts";

const ZAssignableRoleSchema = z.enum(ASSIGNABLE_ROLES, {
  error: `Choose one of ${ASSIGNABLE_ROLES.join(", ")} (ownership moves by a transfer)`,
});
/** An invitation token as the link carries it (base64url of 32 random bytes). */
const ZInvitationTokenSchema = z
  .string()
  .min(20, "Not an invitation token")
  .max(200, "Not an invitation token")
  .regex(/^[A-Za-z0-9_-]+$/, "Not an invitation token");

export const ZInviteMemberRequestSchema = withRequestKey(
  z.strictObject({
    email: z.email("Not an email address").max(320, "Use at most 320 characters"),
    role: ZAssignableRoleSchema,
  }),
);
export const ZInvitationIdRequestSchema = withRequestKey(
  z.strictObject({ invitationId: z.uuid("Not an invitation id") }),
);
export const ZChangeRoleRequestSchema = withRequestKey(
  z.strictObject({ userId: z.uuid("Not a user id"), role: ZAssignableRoleSchema }),
);
export const ZMemberRequestSchema = withRequestKey(z.strictObject({ userId: z.uuid("Not a user id") }));
export const ZSwitchAccountRequestSchema = withRequestKey(
  z.strictObject({ accountId: z.uuid("Not an account id") }),
);
export const ZInvitationPreviewRequestSchema = z.strictObject({ token: ZInvitationTokenSchema });
export const ZAcceptInvitationRequestSchema = withRequestKey(
  z.strictObject({ token: ZInvitationTokenSchema }),
);

/** The active account's team (roles per procedure: permissions.ts). */
export const teamRouter = router({
  list: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => teamView(ctx, ctx.accountId, ctx.viewer)),
  invite: accountProcedure
    .input(ZInviteMemberRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) =>
      inviteMember(ctx, ctx.accountId, ctx.viewer, { email: input.email, role: input.role }),
    ),
  resendInvitation: accountProcedure
    .input(ZInvitationIdRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => resendInvitation(ctx, ctx.accountId, input.invitationId, ctx.viewer)),
  revokeInvitation: accountProcedure
    .input(ZInvitationIdRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => revokeInvitation(ctx, ctx.accountId, input.invitationId, ctx.viewer)),
  changeRole: accountProcedure
    .input(ZChangeRoleRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) =>
      changeMemberRole(ctx, ctx.accountId, ctx.viewer, { userId: input.userId, role: input.role }),
    ),
  remove: accountProcedure
    .input(ZMemberRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => removeMember(ctx, ctx.accountId, ctx.viewer, input.userId)),
  leave: accountProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => leaveAccount(ctx, ctx.accountId, ctx.viewer)),
  transferOwnership: accountProcedure
    .input(ZMemberRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => transferOwnership(ctx, ctx.accountId, ctx.viewer, input.userId)),
});

/** The signed-in user's own accounts and the one this session acts in. */
export const membershipsRouter = router({
  list: userProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => myMemberships(ctx, ctx.viewer)),
  switch: userProcedure
    .input(ZSwitchAccountRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => switchAccount(ctx, ctx.viewer, input.accountId)),
});

/** The accept-invitation page: what the link is for (anyone holding it), and accepting (its addressee). */
export const invitationsRouter = router({
  preview: publicProcedure
    .input(ZInvitationPreviewRequestSchema)
    .query(({ ctx, input }) => invitationPreview(ctx, input.token)),
  accept: userProcedure
    .input(ZAcceptInvitationRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => acceptInvitation(ctx, ctx.viewer, input.token)),
});
