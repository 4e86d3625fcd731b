import { CURRENCIES, type Currency } from "@minutely/domain";
import { z } from "zod";
import { withRequestKey, ZRequestKeySchema } from "../../idempotency.ts";
import {
  adminPauseSubscription,
  adminResendInvitation,
  adminResumePausedSubscription,
  CUSTOMER_SPEND_CAP_FILTERS,
  CUSTOMER_STATUS_FILTERS,
  customerDetail,
  listCustomers,
  MAX_SEARCH_LENGTH,
  resendVerificationEmail,
} from "../../services/admin/index.ts";
import {
  ADJUSTMENT_KINDS,
  adjustAccount,
  adjustmentsOf,
  MAX_ADJUSTMENT_REASON_LENGTH,
  MAX_BALANCE_CREDIT_CENTS,
} from "../../services/billing/index.ts";
import { adminProcedure, idempotent, router } from "../../trpc.ts";
import { ZPausePeriodsSchema } from "../subscription.ts";

export const MAX_CUSTOMERS_PAGE_SIZE = 100;

export const ZCustomerListRequestSchema = z
  .strictObject({
    /** A substring of the account's name or of a user's email, or an exact account / Stripe id. */
    search: z
      .string()
      .trim()
      .max(MAX_SEARCH_LENGTH, `Search for at most ${MAX_SEARCH_LENGTH} characters`)
      .optional(),
    status: z.enum(CUSTOMER_STATUS_FILTERS).default("all"),
    /** Accounts with an overage budget (set), or whose current period reached it (reached). */
    spendCap: z.enum(CUSTOMER_SPEND_CAP_FILTERS).default("all"),
    page: z.number().int().min(1).max(100_000).default(1),
    pageSize: z.number().int().min(1).max(MAX_CUSTOMERS_PAGE_SIZE).default(25),
  })
  .default({ status: "all", spendCap: "all", page: 1, pageSize: 25 });

export const ZCustomerDetailRequestSchema = z.strictObject({ accountId: z.uuid("Not a customer id") });

export const ZAdminPauseRequestSchema = withRequestKey(
  z.strictObject({ accountId: z.uuid("Not a customer id"), periods: ZPausePeriodsSchema }),
);
export const ZAdminResumePauseRequestSchema = withRequestKey(
  z.strictObject({ accountId: z.uuid("Not a customer id") }),
);

/**
 * Money given back (refund, credit note, balance credit): integer minor units; `amountCents` null refunds or
 * credits all that is left of the invoice. A balance credit names its currency (the account's).
 */
export const ZAdminAdjustRequestSchema = z
  .strictObject({
    accountId: z.uuid("Not a customer id"),
    kind: z.enum(ADJUSTMENT_KINDS),
    invoiceId: z.uuid("Not an invoice id").optional(),
    amountCents: z
      .number({ error: "Must be a whole number of minor units (cents)" })
      .max(MAX_BALANCE_CREDIT_CENTS, `At most ${MAX_BALANCE_CREDIT_CENTS}`)
      .min(1, "Must be at least 1 (minor units)")
      .int("Must be a whole number of minor units (cents)")
      .nullable(),
    /** The account's billing currency, lowercase as everywhere (usd, eur, gbp): "EUR" is refused, not coerced. */
    currency: z
      .enum(CURRENCIES as [Currency, ...Currency[]], { error: "Use usd, eur or gbp (lowercase)" })
      .optional(),
    reason: z
      .string()
      .trim()
      .min(1, "Say why (the customer sees it)")
      .max(MAX_ADJUSTMENT_REASON_LENGTH, `At most ${MAX_ADJUSTMENT_REASON_LENGTH} characters`),
    requestKey: ZRequestKeySchema.unwrap(),
  })
  .superRefine((input, ctx) => {
    if (input.kind !== "balance_credit" && !input.invoiceId) {
      ctx.addIssue({ code: "custom", path: ["invoiceId"], message: "Name the invoice" });
    }
    if (input.kind === "balance_credit") {
      if (input.invoiceId)
        ctx.addIssue({ code: "custom", path: ["invoiceId"], message: "A balance credit is on no invoice" });
      if (input.amountCents === null)
        ctx.addIssue({ code: "custom", path: ["amountCents"], message: "Say how much" });
      if (!input.currency) ctx.addIssue({ code: "custom", path: ["currency"], message: "Name the currency" });
    }
  });

export const ZAdminResendInvitationRequestSchema = withRequestKey(
  z.strictObject({ accountId: z.uuid("Not a customer id"), invitationId: z.uuid("Not an invitation id") }),
);

export const ZAdminResendVerificationRequestSchema = withRequestKey(
  z.strictObject({
    accountId: z.uuid("Not a customer id"),
    userId: z.uuid("Not a user id"),
  }),
);

export const adminCustomersRouter = router({
  /** Accounts newest first, searchable, with owner, package, status, usage and MRR contribution. */
  list: adminProcedure.input(ZCustomerListRequestSchema).query(({ ctx, input }) => listCustomers(ctx, input)),
  /** One account: subscription, usage by day, invoices, alerts, agents and Stripe ids. */
  get: adminProcedure
    .input(ZCustomerDetailRequestSchema)
    .query(({ ctx, input }) => customerDetail(ctx, input.accountId)),
  /** Pauses the customer's subscription for 1-3 billing periods or until resumed (audit-logged). */
  pause: adminProcedure
    .input(ZAdminPauseRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => adminPauseSubscription(ctx, ctx.viewer, input)),
  /**
   * Refunds an invoice (all or part), issues a credit note on it, or credits the customer's balance, with a
   * reason (audit-logged; never more than was paid less what was given back; a double click is one).
   */
  adjust: adminProcedure
    .input(ZAdminAdjustRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) =>
      adjustAccount(ctx, ctx.viewer, input.accountId, adjustmentInput(input), input.requestKey),
    ),
  /** The customer's refunds and credits, newest first (failed and pending ones included). */
  adjustments: adminProcedure
    .input(ZCustomerDetailRequestSchema)
    .query(({ ctx, input }) => adjustmentsOf(ctx, input.accountId)),
  /** Mails a customer's pending invitation again with a new link (rate limited, audit-logged). */
  resendInvitation: adminProcedure
    .input(ZAdminResendInvitationRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => adminResendInvitation(ctx, ctx.viewer, input)),
  /** Mails an unverified user a new verification link (audit-logged, at most 3 a user an hour). */
  resendVerification: adminProcedure
    .input(ZAdminResendVerificationRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) =>
      resendVerificationEmail(ctx, ctx.viewer, { accountId: input.accountId, userId: input.userId }),
    ),
  /** Ends the customer's pause now (audit-logged). */
  resumePause: adminProcedure
    .input(ZAdminResumePauseRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => adminResumePausedSubscription(ctx, ctx.viewer, input)),
});

/** The service's input from the checked request (the schema made sure of what each kind needs). */
export function adjustmentInput(input: z.output<typeof ZAdminAdjustRequestSchema>) {
  return input.kind === "balance_credit"
    ? {
        kind: input.kind,
        amountCents: input.amountCents ?? 0,
        currency: input.currency ?? "",
        reason: input.reason,
      }
    : {
        kind: input.kind,
        invoiceId: input.invoiceId ?? "",
        amountCents: input.amountCents,
        reason: input.reason,
      };
}
