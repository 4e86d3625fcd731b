import { z } from "zod";
import { withRequestKey } from "../idempotency.ts";
import { accountSettings, deleteAccount, updateAccountSettings } from "../services/accounts/index.ts";
import { accountProcedure, idempotent, router, ZNoInputRequestSchema } from "../trpc.ts";

const CONTROL_CHARACTERS = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

export const ZAccountSettingsRequestSchema = withRequestKey(
  z
    .strictObject({
      name: z
        .string({ error: "must be a string" })
        .trim()
        .min(1, "Enter the company name")
        .refine((name) => [...name].length <= 120, "Use at most 120 characters")
        .refine((name) => !CONTROL_CHARACTERS.test(name), "must not contain control characters")
        .optional(),
      billingEmail: z
        .email({ error: "Enter an email address such as billing@example.com" })
        .max(254, "is too long")
        .nullable()
        .optional(),
    })
    .refine((input) => input.name !== undefined || input.billingEmail !== undefined, {
      message: "Send name, billingEmail or both",
      path: ["name"],
    }),
);

export const ZDeleteAccountRequestSchema = withRequestKey(
  z.strictObject({
    /** The company name, typed again to confirm (docs/accounts.md). */
    confirmation: z
      .string({ error: "must be a string" })
      .min(1, "Type the company name to confirm")
      .max(200, "Use at most 200 characters"),
  }),
);

/** The account's company name and billing email (where invoices go). */
export const accountSettingsRouter = router({
  get: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => accountSettings(ctx, ctx.accountId)),
  update: accountProcedure
    .input(ZAccountSettingsRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) =>
      updateAccountSettings(ctx, ctx.accountId, { name: input.name, billingEmail: input.billingEmail }),
    ),
  /** Deletes the account (owner only; docs/accounts.md). The caller's sessions end with it. */
  delete: accountProcedure
    .input(ZDeleteAccountRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) =>
      deleteAccount(
        ctx,
        { userId: ctx.viewer.userId, accountId: ctx.accountId },
        { confirmation: input.confirmation },
      ),
    ),
});
