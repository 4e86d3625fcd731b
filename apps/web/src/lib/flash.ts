// One confirmation carried across a navigation (the upgrade's, shown on the Billing page it lands on). It
// lives in memory only: a reload, or the next visit of the page, does not bring it back.
import type { AppRouter } from "@minutely/api";
import type { inferRouterOutputs } from "@trpc/server";

export type UpgradeConfirmation = inferRouterOutputs<AppRouter>["subscription"]["upgrade"]["upgrade"];

export type Flash = { kind: "upgraded"; upgrade: UpgradeConfirmation };

let pending: Flash | null = null;

export function setFlash(flash: Flash): void {
  pending = flash;
}

/** The confirmation left by the previous page (read it in a state initializer, then clearFlash in an effect). */
export function peekFlash(): Flash | null {
  return pending;
}

export function clearFlash(): void {
  pending = null;
}
