import { CURRENCIES, type Currency } from "@minutely/domain";
import { z } from "zod";
import { listAvailablePackages } from "../services/catalog/index.ts";
import { packageSelection } from "../services/subscriptions/index.ts";
import { accountProcedure, publicProcedure, router } from "../trpc.ts";

/**
 * The currency to show prices in (usd, eur, gbp). The catalog: the packages sold in it, priced in it;
 * absent: each package in its own currency. The selection: used until the account has a billing currency
 * (fixed at its first purchase), which then wins.
 */
const ZCatalogInputSchema = z
  .strictObject({
    currency: z
      .enum(CURRENCIES as [Currency, ...Currency[]], { error: "Use one of usd, eur, gbp" })
      .optional(),
  })
  .optional();

export const catalogRouter = router({
  /** The active packages and their feature comparison (public: the pricing page), optionally in a currency. */
  list: publicProcedure
    .input(ZCatalogInputSchema)
    .query(({ ctx, input }) => listAvailablePackages(ctx, input?.currency)),
  /**
   * The caller's package selection: packages (priced in the account's billing currency, else the chosen
   * one), comparison, current package, whether one must be chosen.
   */
  selection: accountProcedure
    .input(ZCatalogInputSchema)
    .query(({ ctx, input }) => packageSelection(ctx, ctx.accountId, input?.currency)),
});
