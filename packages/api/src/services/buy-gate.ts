// The buy gate (README, "Email verification"), shared by every service that sells: subscriptions (subscribe,
// upgrade) and minute packs (a purchase, auto top-up). Outside the service groups so each can use it.
import type { Ports } from "../context.ts";
import { AppError } from "../errors.ts";

/**
 * Buying needs a verified email address where the deployment asks for it (Settings): unverified users can
 * use the app but not buy. A 403 that says what to do.
 */
export function assertMayBuy(
  ports: Pick<Ports, "settings">,
  buyer: { email: string; emailVerified?: boolean | undefined },
): void {
  if (ports.settings.requireVerifiedEmailToBuy && buyer.emailVerified !== true) {
    throw new AppError(
      "FORBIDDEN",
      `Confirm your email address (${buyer.email}) before buying: open the link we mailed you, or send a new one from the banner at the top of the app.`,
    );
  }
}
