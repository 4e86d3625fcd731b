// The package catalog: what customers can buy (packages.ts) and how admins change it, synced to Stripe
// (catalog-admin.ts); coupons and promotion codes, and the check of a code a customer typed (coupons.ts).
// Depends on no other group.
export {
  type AdminPackageView,
  createPackage,
  listPackagesForAdmin,
  reorderPackages,
  setPackageActive,
  syncCatalogToStripe,
  syncErrorOf,
  syncPackageToStripe,
  updatePackage,
  ZPackageInputSchema,
} from "./catalog-admin.ts";
export {
  type AdminCouponView,
  archiveCoupon,
  archivePromotionCode,
  type CodeCheck,
  type CouponView,
  checkPromotionCode,
  couponApplicability,
  couponRules,
  couponSummary,
  createCoupon,
  createPromotionCode,
  listCouponsForAdmin,
  offOf,
  type PromotionCodeView,
  syncCouponToStripe,
  syncPromotionCodeToStripe,
  toCouponView,
  ZCouponFieldsSchema,
  ZCouponInputSchema,
  ZPromotionCodeInputSchema,
  ZTypedCodeSchema,
} from "./coupons.ts";
export {
  availablePackagesOf,
  listAvailablePackages,
  type PackageView,
  type PlanRow,
  priceIn,
  toPackageView,
  toPlanDefinition,
  WITH_CURRENCY_PRICES,
} from "./packages.ts";
