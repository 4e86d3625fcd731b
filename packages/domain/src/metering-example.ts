/**
 * The ready-to-paste metering request the customer app shows on its Integration page: one finished call of
 * the customer's own account (and agent) reported to `POST /api/v1/usage/calls`. The page and the test that
 * posts it to the real route build it with this one function, so what the page shows is what the route
 * accepts.
 *
 * Rules:
 * - The call lasted {@link EXAMPLE_CALL_SECONDS} seconds (2 billable minutes) and ended at `now`, so its
 *   `started_at` lies in the account's current period and inside every time check of the route; for an
 *   account that subscribed less than that ago it starts when the subscription began (`notBefore`, rounded
 *   up to the second), since a call dated before it is rejected (before_subscription).
 * - `started_at` is whole seconds in UTC (`2026-11-27T11:58:25Z`).
 * - The token is never in it: the `Authorization` header names the environment variable that holds the
 *   metering service token (`$METERING_API_TOKEN`), expanded by the shell.
 * - `agent_id` is left out when the account has no agent yet (it is optional).
 */
import { assertValidDate } from "./time";

/** How long the example call lasted: 1 minute 35 seconds, billed as 2 started minutes. */
export const EXAMPLE_CALL_SECONDS = 95;
/** The environment variable the example's Authorization header reads the token from. */
export const METERING_TOKEN_VARIABLE = "METERING_API_TOKEN";
/** The metering route that records finished calls. */
export const USAGE_CALLS_PATH = "/api/v1/usage/calls";

export interface MeteringExampleInput {
  /** Where the calling platform reaches Minutely, without a trailing slash: `https://billing.example.com`. */
  baseUrl: string;
  accountId: string;
  agentId: string | null;
  callId: string;
  /** When the example call ended (the account's now). */
  now: Date;
  /** When the account's first subscription began: the example call does not start before it. */
  notBefore?: Date | null;
}

export interface MeteringExampleEvent {
  call_id: string;
  account_id: string;
  agent_id?: string;
  direction: "outbound";
  started_at: string;
  duration_seconds: number;
}

export interface MeteringExample {
  url: string;
  body: { events: [MeteringExampleEvent] };
  /** The request as a shell command (curl), the body as indented JSON in single quotes. */
  curl: string;
}

/** Builds the example request. @throws RangeError for an invalid `now`. */
export function meteringExample(input: MeteringExampleInput): MeteringExample {
  assertValidDate(input.now, "now");
  const ended = Math.floor(input.now.getTime() / 1000) * 1000;
  const earliest = input.notBefore
    ? Math.ceil(input.notBefore.getTime() / 1000) * 1000
    : Number.NEGATIVE_INFINITY;
  const startedAt = new Date(Math.max(ended - EXAMPLE_CALL_SECONDS * 1000, earliest))
    .toISOString()
    .replace(".000Z", "Z");
  const event: MeteringExampleEvent = {
    call_id: input.callId,
    account_id: input.accountId,
    ...(input.agentId ? { agent_id: input.agentId } : {}),
    direction: "outbound",
    started_at: startedAt,
    duration_seconds: EXAMPLE_CALL_SECONDS,
  };
  const body: MeteringExample["body"] = { events: [event] };
  const url = `${input.baseUrl.replace(/\/+$/, "")}${USAGE_CALLS_PATH}`;
  // Every value is an id, a fixed word or a timestamp: no single quote can end the shell's quoting early.
  const json = JSON.stringify(body, null, 2).replaceAll("'", "'\\''");
  const curl = [
    `curl -sS -X POST '${url}'`,
    `  -H "Authorization: Bearer $${METERING_TOKEN_VARIABLE}"`,
    `  -H 'Content-Type: application/json'`,
    `  -d '${json}'`,
  ].join(" \\\n");
  return { url, body, curl };
}
