import type { Database } from "@minutely/db";
import type { Clock } from "@minutely/domain";
import type { AccountRole } from "./permissions.ts";
import type { BillingProvider } from "./ports/billing.ts";
import type { LiveHub } from "./ports/live.ts";
import type { Mailer } from "./ports/mailer.ts";
import type { JobQueue } from "./ports/queue.ts";

/** Who is calling. Filled by the server from the session cookie; null when signed out. */
export interface Viewer {
  userId: string;
  email: string;
  name: string;
  role: "user" | "admin";
  /** Whether the user confirmed their address (the link mailed on sign-up). Absent: not known (tests, tools). */
  emailVerified?: boolean;
  /**
   * The account this request acts in (the session's active account, checked against the user's
   * memberships); every account-scoped query filters by it. Null: the user belongs to no account.
   */
  accountId: string | null;
  /**
   * The user's role in `accountId` as the server read it for this request. Absent (tests, tools): the
   * account procedures read it from `account_member` themselves; a viewer that is no member is refused.
   */
  accountRole?: AccountRole | null;
  /**
   * The account the client's page was showing when it sent this request (the `x-minutely-account` header,
   * ACTING_ACCOUNT_HEADER): the active account is the session's, so another tab may have switched it since.
   * An account mutation whose page was for another account is refused (trpc.ts), never run on the new one.
   * Absent: the client did not say (API tools, tests).
   */
  actingAccountId?: string;
  /**
   * When the session of this request was opened (by signing up or signing in). Absent for viewers made
   * without a session (tests, tools).
   */
  sessionStartedAt?: Date;
  /** The session the request came with (better-auth's session id); binds replays of one-time secrets. */
  sessionId?: string | undefined;
}

/** Deployment facts services need. */
export interface Settings {
  /** Where customers' browsers reach the customer app (return URLs from Stripe's hosted pages point here). */
  appUrl: string;
  /** Where the API is reached from outside (PUBLIC_URL): the metering API the calling platform calls. */
  publicUrl: string;
  /** Give each new Stripe customer a test clock (emulator / Stripe test mode) so time can be advanced. */
  useTestClocks: boolean;
  /** True when Stripe is the project's emulator: the SPAs then say so in a banner. */
  stripeEmulator: boolean;
  /** The server's own secret (SESSION_SECRET): seals the one-time secrets of stored answers (idempotency.ts). */
  secret: string;
  /**
   * Buying (subscribe, upgrade) needs a verified email address (REQUIRE_VERIFIED_EMAIL_TO_BUY; on except
   * in tests). Absent: not required.
   */
  requireVerifiedEmailToBuy?: boolean;
  /** Told every invitation link mailed (development logs it, like the sign-in service's links). */
  onLink?: (link: { kind: "invitation"; to: string; url: string }) => void;
}

/** What services need from the outside world. Tests pass real implementations or real fakes. */
export interface Ports {
  settings: Settings;
  db: Database;
  clock: Clock;
  queue: JobQueue;
  mailer: Mailer;
  billing: BillingProvider;
}

export interface Context extends Ports {
  viewer: Viewer | null;
  requestId: string;
  /** This replica's live-usage hub (subscriptions); absent where nothing listens (tests, tools): clients poll. */
  live?: LiveHub;
}
