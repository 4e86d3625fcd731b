// THE role table: who may call each customer tRPC procedure and each customer REST route. Both the tRPC
// middleware (trpc.ts) and the REST routes (apps/server `requireCustomer`) consult it. Deny by default: a
// procedure or route missing here is a 403, and `authorization-matrix.test.ts` / apps/server
// `role-matrix.test.ts` fail listing it, so a new one cannot be forgotten. docs/accounts.md shows the table.

/** A user's role in one account (the `AccountRole` enum of the database). */
export const ACCOUNT_ROLES = ["owner", "admin", "billing", "member"] as const;
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

/**
 * Who may call:
 * - "public": anyone, signed in or not;
 * - "user": any signed-in user, whatever their account or role (their own sessions, their memberships,
 *   accepting an invitation);
 * - a list of roles: a member of the session's active account with one of these roles.
 */
export type Access = "public" | "user" | readonly AccountRole[];

const ALL: readonly AccountRole[] = ["owner", "admin", "billing", "member"];
/** Running the account: agents, API keys, alerts, the team (but not deleting it or transferring it). */
const MANAGE: readonly AccountRole[] = ["owner", "admin"];
/** Money: packages, invoices, payment method, packs, the spend cap. */
const BILLING: readonly AccountRole[] = ["owner", "admin", "billing"];
const OWNER: readonly AccountRole[] = ["owner"];

/** Every procedure of the customer router (/trpc), by path. */
export const PROCEDURE_ACCESS: Readonly<Record<string, Access>> = {
  "system.status": "public",
  "auth.me": "public",
  "catalog.list": "public",

  "sessions.list": "user",
  "sessions.revoke": "user",
  "sessions.revokeOthers": "user",
  "memberships.list": "user",
  "memberships.switch": "user",
  "invitations.preview": "public",
  "invitations.accept": "user",

  "accountSettings.get": ALL,
  "accountSettings.update": BILLING,
  "accountSettings.delete": OWNER,

  "team.list": ALL,
  "team.invite": MANAGE,
  "team.resendInvitation": MANAGE,
  "team.revokeInvitation": MANAGE,
  "team.changeRole": MANAGE,
  "team.remove": MANAGE,
  "team.leave": ALL,
  "team.transferOwnership": OWNER,

  "catalog.selection": ALL,
  "dashboard.get": ALL,
  "usage.current": ALL,
  "usage.daily": ALL,
  "usage.byAgent": ALL,
  "usage.byDirection": ALL,
  "analytics.overview": ALL,
  "integration.get": ALL,
  "live.usage": ALL,
  "agents.list": ALL,
  "alerts.list": ALL,
  "alerts.thresholds.list": ALL,
  "packs.list": ALL,
  "subscription.overview": ALL,

  "agents.create": MANAGE,
  "agents.rename": MANAGE,
  "agents.deactivate": MANAGE,
  "agents.activate": MANAGE,
  "apiKeys.list": MANAGE,
  "apiKeys.create": MANAGE,
  "apiKeys.revoke": MANAGE,
  "alerts.dismiss": MANAGE,
  "alerts.thresholds.set": MANAGE,
  "alerts.thresholds.remove": MANAGE,

  "subscription.subscribe": BILLING,
  "subscription.completeCheckout": BILLING,
  "subscription.checkPromotionCode": BILLING,
  "subscription.previewUpgrade": BILLING,
  "subscription.upgrade": BILLING,
  "subscription.downgrade": BILLING,
  "subscription.cancelScheduledChange": BILLING,
  "subscription.cancel": BILLING,
  "subscription.resume": BILLING,
  "subscription.pause": BILLING,
  "subscription.resumePause": BILLING,
  "subscription.updatePaymentMethod": BILLING,
  "subscription.invoices": BILLING,
  "subscription.invoice": BILLING,
  "subscription.taxDetails": BILLING,
  "subscription.updateTaxDetails": BILLING,
  "subscription.credits": BILLING,
  "spendCap.get": BILLING,
  "spendCap.set": BILLING,
  "packs.ledger": BILLING,
  "packs.buyWithCheckout": BILLING,
  "packs.buyWithSavedCard": BILLING,
  "packs.autoTopUp.get": BILLING,
  "packs.autoTopUp.set": BILLING,
};

/**
 * Every customer REST route (a session cookie, `requireCustomer`), by `METHOD /url` as registered. Routes
 * authenticated otherwise (API keys, the admin role, Stripe's signature) are not in it.
 */
export const ROUTE_ACCESS: Readonly<Record<string, readonly AccountRole[]>> = {
  "GET /api/dashboard/comprehensive/": ALL,
  "GET /api/subscriptions/user/packages/": ALL,
  "POST /api/subscriptions/user/actions/": BILLING,
  "GET /api/billing/invoices/:id": BILLING,
  "GET /api/billing/spend-cap": BILLING,
  "GET /api/billing/tax-details": BILLING,
  "POST /api/billing/tax-details": BILLING,
  "POST /api/billing/spend-cap": BILLING,
  "GET /api/packs": ALL,
  "GET /api/packs/balance": BILLING,
  "POST /api/packs/purchase": BILLING,
  "GET /api/packs/auto-top-up": BILLING,
  "POST /api/packs/auto-top-up": BILLING,
};

/** The roles that may call a customer procedure; undefined: not in the table (refused). */
export function procedureAccess(path: string): Access | undefined {
  return Object.hasOwn(PROCEDURE_ACCESS, path) ? PROCEDURE_ACCESS[path] : undefined;
}

/** True when `role` may call the route `key` (`METHOD /url`); false for a route not in the table. */
export function routeAllows(key: string, role: AccountRole): boolean {
  return Object.hasOwn(ROUTE_ACCESS, key) && (ROUTE_ACCESS[key] as readonly AccountRole[]).includes(role);
}

export function isAccountRole(value: unknown): value is AccountRole {
  return typeof value === "string" && (ACCOUNT_ROLES as readonly string[]).includes(value);
}

/** What the 403 says. */
export function roleRefusal(role: AccountRole): string {
  return `Your role in this account (${role}) does not allow this. Ask the account owner or an admin.`;
}
