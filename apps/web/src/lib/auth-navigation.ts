import type { useNavigate } from "@minutely/ui";
import { type RawSearch, safeRedirect } from "@minutely/ui";
import { queryClient } from "./trpc.ts";

/**
 * After signing in or out: forget every cached answer (they belonged to the previous viewer), then go on, in
 * place of the current page in the history (Back does not show a sign-in form to someone signed in).
 */
export async function afterAuthChange(navigate: ReturnType<typeof useNavigate>, target: string | undefined) {
  await queryClient.resetQueries();
  await navigate({ href: safeRedirect(target), replace: true });
}

/** The search of the sign-in and sign-up pages: where to go afterwards. */
export function authSearch(search: RawSearch): { redirect?: string } {
  return typeof search.redirect === "string" ? { redirect: search.redirect } : {};
}
