import { CURRENCIES, MAX_SPEND_CAP_CENTS, MIN_SPEND_CAP_CENTS } from "@minutely/domain";
import { z } from "zod";
import { withRequestKey } from "../idempotency.ts";
import { setSpendCap, spendCapView } from "../services/metering/index.ts";
import { accountProcedure, idempotent, router, ZNoInputRequestSchema } from "../trpc.ts";

/**
 * The overage budget to set: whole minor units (cents) and the billing currency, or `amountCents: null` to
 * remove it. Strict: wrong JSON types are refused, never coerced.
 */
export const ZSpendCapSetRequestSchema = withRequestKey(
  z.strictObject({
    amountCents: z
      .number({ error: "Enter the budget in cents, or null for no budget." })
      // The bounds first: an absurdly large number (1e308, 2^53 + 1) is above the maximum before it is
      // not a safe whole number, and the first issue is the one shown.
      .max(MAX_SPEND_CAP_CENTS, `The budget can be at most ${MAX_SPEND_CAP_CENTS} cents.`)
      .min(MIN_SPEND_CAP_CENTS, "The budget cannot be negative.")
      .int("Use a whole number of cents.")
      .nullable(),
    currency: z.enum(CURRENCIES, { error: "Use usd, eur or gbp (lowercase)." }),
  }),
);

export const spendCapRouter = router({
  /** The account's overage budget, whether it can set one, and the current period's overage against it. */
  get: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => spendCapView(ctx, ctx.accountId)),
  /** Sets, changes or (amountCents null) removes the budget; audited, idempotent by value and requestKey. */
  set: accountProcedure
    .input(ZSpendCapSetRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) =>
      setSpendCap(ctx, ctx.viewer, ctx.accountId, {
        amountCents: input.amountCents,
        currency: input.currency,
      }),
    ),
});
