import type { Database } from "@minutely/db";
import type { Clock } from "@minutely/domain";
import type { BillingProvider } from "./ports/billing.ts";
import type { Mailer } from "./ports/mailer.ts";
import type { JobQueue } from "./ports/queue.ts";

/** Who is calling. Filled by the server from the session cookie; null when signed out. */
export interface Viewer {
  userId: string;
  email: string;
  name: string;
  role: "user" | "admin";
  /** The tenant the user belongs to; every account-scoped query filters by it. */
  accountId: string | null;
}

/** What services need from the outside world. Tests pass real implementations or real fakes. */
export interface Ports {
  db: Database;
  clock: Clock;
  queue: JobQueue;
  mailer: Mailer;
  billing: BillingProvider;
}

export interface Context extends Ports {
  viewer: Viewer | null;
  requestId: string;
}
