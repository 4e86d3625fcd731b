import { z } from "zod";
import { withRequestKey } from "../../idempotency.ts";
import {
  adminPauseSubscription,
  adminResumePausedSubscription,
  CUSTOMER_SPEND_CAP_FILTERS,
  CUSTOMER_STATUS_FILTERS,
  customerDetail,
  listCustomers,
  MAX_SEARCH_LENGTH,
} from "../../services/admin/index.ts";
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
  /** Ends the customer's pause now (audit-logged). */
  resumePause: adminProcedure
    .input(ZAdminResumePauseRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => adminResumePausedSubscription(ctx, ctx.viewer, input)),
});
