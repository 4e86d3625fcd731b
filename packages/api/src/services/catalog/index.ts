// The package catalog: what customers can buy (packages.ts) and how admins change it, synced to Stripe
// (catalog-admin.ts). Depends on no other group.
export {
  type AdminPackageView,
  createPackage,
  listPackagesForAdmin,
  reorderPackages,
  setPackageActive,
  syncCatalogToStripe,
  syncPackageToStripe,
  updatePackage,
  ZPackageInputSchema,
} from "./catalog-admin.ts";
export {
  availablePackagesOf,
  listAvailablePackages,
  type PackageView,
  toPackageView,
  toPlanDefinition,
} from "./packages.ts";
