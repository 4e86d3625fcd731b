import type { Database } from "@minutely/db";
import type { Clock } from "@minutely/domain";

/** Who is calling. Filled by the server from the session cookie; null when signed out. */
export interface Viewer {
  userId: string;
  email: string;
  name: string;
  role: "user" | "admin";
  /** The tenant the user belongs to; every account-scoped query filters by it. */
  accountId: string | null;
}

/** What every service needs from the outside world. Tests pass real fakes through the same ports. */
export interface Ports {
  db: Database;
  clock: Clock;
}

export interface Context extends Ports {
  viewer: Viewer | null;
  requestId: string;
}
