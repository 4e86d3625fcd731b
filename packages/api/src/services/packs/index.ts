// Prepaid minute packs: the catalog and purchases (packs.ts), grants and the ledger (grants.ts). Drawing
// pack minutes is metering's (metering/pack-draws.ts), under the period lock.

export {
  type AutoTopUpInput,
  type AutoTopUpView,
  applyTopUpPaymentFailed,
  autoTopUpView,
  enqueuePackTopUp,
  runPackTopUp,
  setAutoTopUp,
  ZAutoTopUpInputSchema,
} from "./auto-top-up.ts";
export { grantPack, type PackGrantView, type PackLedgerView, packLedgerView } from "./grants.ts";
export {
  applyPackCheckout,
  applyPackPaymentIntent,
  archiveMinutePack,
  assertMayBuyPacks,
  buyPackWithCheckout,
  buyPackWithSavedCard,
  createMinutePack,
  listMinutePacks,
  listOfferedPacks,
  type MinutePackChangeResult,
  type MinutePackInput,
  type MinutePackView,
  syncMinutePackToStripe,
  ZMinutePackInputSchema,
} from "./packs.ts";
