import { z } from "zod";
import { withRequestKey } from "../../idempotency.ts";
import {
  advanceBillingClock,
  billingClockState,
  CLOCK_CARDS,
  type ClockCard,
  clockAccounts,
  MAX_SEARCH_LENGTH,
  requireEmulator,
  setBillingClockCard,
} from "../../services/admin/index.ts";
import { adminProcedure, idempotent, router } from "../../trpc.ts";

const accountId = z.uuid("Not a customer id");

export const ZClockAccountsRequestSchema = z
  .strictObject({
    search: z.string().trim().max(MAX_SEARCH_LENGTH).optional(),
    limit: z.number().int().min(1).max(50).default(20),
  })
  .default({ limit: 20 });
export const ZClockStateRequestSchema = z.strictObject({ accountId });
export const ZClockAdvanceRequestSchema = withRequestKey(
  z.strictObject({ accountId, to: z.date("Choose a date and time") }),
);
export const ZClockCardRequestSchema = withRequestKey(
  z.strictObject({
    accountId,
    card: z.enum(Object.keys(CLOCK_CARDS) as [ClockCard, ...ClockCard[]]),
  }),
);

/** Only while Minutely runs on the Stripe emulator (PRECONDITION_FAILED otherwise). */
const clockProcedure = adminProcedure.use(({ ctx, next }) => {
  requireEmulator(ctx.settings);
  return next();
});

export const adminBillingClockRouter = router({
  /** Accounts whose subscription runs on a Stripe test clock, newest first. */
  accounts: clockProcedure
    .input(ZClockAccountsRequestSchema)
    .query(({ ctx, input }) => clockAccounts(ctx, input)),
  /** The account's subscription, its clock's time and its latest invoices. */
  get: clockProcedure
    .input(ZClockStateRequestSchema)
    .query(({ ctx, input }) => billingClockState(ctx, input.accountId)),
  /** Advances the account's Stripe test clock, then syncs subscription and invoices (audit-logged). */
  advance: clockProcedure
    .input(ZClockAdvanceRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => advanceBillingClock(ctx, ctx.viewer, input)),
  /** Gives the customer a card that pays or one that is declined (audit-logged). */
  setCard: clockProcedure
    .input(ZClockCardRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => setBillingClockCard(ctx, ctx.viewer, input)),
});
