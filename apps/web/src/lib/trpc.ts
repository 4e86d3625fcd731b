import type { AppRouter } from "@minutely/api";
import { createTrpc } from "@minutely/ui";

/**
 * The account this tab's pages show (the active one when `memberships.list` last answered). The active
 * account is the session's, shared by every tab: each request names this one in the `x-minutely-account`
 * header (the API's ACTING_ACCOUNT_HEADER), and the API refuses a change meant for an account another tab
 * switched away from (409: reload) instead of making it in the account switched to.
 */
let shownAccountId: string | null = null;

export function setShownAccount(accountId: string | null): void {
  shownAccountId = accountId;
}

export const { queryClient, trpc, client } = createTrpc<AppRouter>("/trpc", {
  headers: (): Record<string, string> => (shownAccountId ? { "x-minutely-account": shownAccountId } : {}),
});
