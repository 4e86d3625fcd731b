// The metering API for the calling platform: usage events in, call authorization, usage reads. Authenticated
// by the service token METERING_API_TOKEN (`Authorization: Bearer <token>`), not by cookies.
import { createHash, timingSafeEqual } from "node:crypto";
import {
  AppError,
  authorizeCallRequest,
  CALL_DENIALS,
  currentUsage,
  dailyUsage,
  type IngestResult,
  ingestUsageEvents,
  isUuid,
  LATE_WINDOW_DAYS,
  MAX_EVENTS_PER_BATCH,
  type Ports,
  RESERVATION_MINUTES,
  USAGE_REJECTION_REASONS,
  UsageIngestCoalescer,
  usageByAgent,
} from "@minutely/api";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Config } from "../config.ts";
import { RestError } from "../rest.ts";
import { defineRoute } from "./define-route.ts";
import { errorResponses } from "./openapi-schemas.ts";

const TAG = "Metering (service token)";
const security = [{ meteringToken: [] }];

/** How the calling platform retries (docs/metering.md, "When Minutely is unavailable"). */
const RETRY_GUIDANCE =
  "On a 503 or no answer, nothing was half-done: resend the same request with the same call_ids (the " +
  "idempotency keys; never new ones), first after the Retry-After header's seconds, then with exponential " +
  "backoff and jitter (double each wait up to about 60 s, each randomized between half and all of it); " +
  "never resend at once. While the database is down the 503 is answered without touching it.";

const ROUNDING =
  "Billable minutes are counted per started minute of each call: ceil(duration_seconds / 60), so 0 s is 0, " +
  "1-60 s is 1 minute and 61 s is 2; fractions of a second round up; calls longer than 24 hours are rejected.";

const ZTimestampSchema = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 timestamp such as 2026-11-27T12:00:00Z",
});
const ZDirectionSchema = z.enum(["inbound", "outbound"], { error: 'must be "inbound" or "outbound"' });
const ZIdSchema = z
  .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
  .min(1, "is required")
  .max(128, "is too long");
/**
 * An account's or agent's id: a UUID, read in any letter case (as PostgreSQL reads one) and compared in the
 * one form Minutely stores, lower case; so an upper-case id is the same account everywhere (ingestion,
 * authorization, the usage reads), never unknown in one place and known in another.
 */
const ZEntityIdSchema = ZIdSchema.transform((id) => id.toLowerCase());

/**
 * The whole seconds from `startedAt` to `endedAt` (ISO 8601 timestamps as ZTimestampSchema accepts them),
 * a fraction rounding up, computed from every digit given: a JavaScript date keeps milliseconds and drops
 * the digits beyond, which billed a call of 60.0008 s as 60 s (1 minute instead of 2). Negative when the
 * call ended before it started, even by less than a millisecond; NaN when either is not a timestamp (the
 * schema has refused it then).
 */
function wholeSecondsBetween(startedAt: string, endedAt: string): number {
  const ms = Date.parse(endedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms)) return Number.NaN;
  // The digits beyond the milliseconds, of equal length, compared as decimals: (-1 ms, +1 ms) around `ms`.
  const beyond = (timestamp: string) => /T\d{2}:\d{2}:\d{2}\.\d{3}(\d+)/.exec(timestamp)?.[1] ?? "";
  const [start, end] = [beyond(startedAt), beyond(endedAt)];
  const length = Math.max(start.length, end.length);
  const [s, e] = [start.padEnd(length, "0"), end.padEnd(length, "0")];
  if (e === s) return ms < 0 ? -1 : Math.ceil(ms / 1000);
  if (e > s) return ms < 0 ? -1 : Math.floor(ms / 1000) + 1; // strictly between ms and ms + 1
  return ms <= 0 ? -1 : Math.floor((ms - 1) / 1000) + 1; // strictly between ms - 1 and ms
}

// The bodies are validated by these strict schemas only: a value of the wrong JSON type (null, "60", true,
// [60], a number for a string) or a field the API does not know is a 400 naming the field, never coerced or
// dropped. They see the body as JSON.parse produced it: no ajv runs on these bodies (defineRoute), so the
// server's ajv options (type coercion, removal of additional properties, defaults) cannot change it.
export const ZUsageEventRequestSchema = z
  .strictObject({
    call_id: ZIdSchema.meta({
      description:
        "The call's id; with account_id the call's key: a replay of the same call is a duplicate, the same " +
        "key with other details a call_id_conflict, and another account's call with this id another call",
    }),
    account_id: ZEntityIdSchema.meta({
      description:
        "The account's id (a UUID, in any letter case); any other value is rejected for that event as unknown_account",
    }),
    agent_id: ZEntityIdSchema.nullish().meta({
      description:
        "One of the account's agents (a UUID, in any letter case); any other value is rejected for that event as unknown_agent",
    }),
    direction: ZDirectionSchema,
    started_at: ZTimestampSchema.meta({ description: "Decides the billing period" }),
    ended_at: ZTimestampSchema.optional().meta({ description: "Either ended_at or duration_seconds" }),
    duration_seconds: z
      .number({ error: "must be a number of seconds" })
      .finite("must be a number of seconds")
      .min(0, "must not be negative")
      .optional(),
  })
  .superRefine((event, ctx) => {
    if (event.ended_at === undefined && event.duration_seconds === undefined) {
      ctx.addIssue({ code: "custom", path: ["ended_at"], message: "or duration_seconds is required" });
      ctx.addIssue({ code: "custom", path: ["duration_seconds"], message: "or ended_at is required" });
    } else if (event.ended_at !== undefined && event.duration_seconds !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["duration_seconds"],
        message: "must not be given together with ended_at",
      });
    } else if (event.ended_at !== undefined && wholeSecondsBetween(event.started_at, event.ended_at) < 0) {
      ctx.addIssue({ code: "custom", path: ["ended_at"], message: "must not be before started_at" });
    }
  });

export const ZIngestUsageRequestSchema = z.strictObject(
  {
    events: z
      .array(ZUsageEventRequestSchema, { error: "must be a list of call events" })
      .min(1, "must contain at least one event")
      .max(MAX_EVENTS_PER_BATCH, `must contain at most ${MAX_EVENTS_PER_BATCH} events`),
  },
  { error: "must be a JSON object" },
);

export const ZAuthorizeCallRequestSchema = z.strictObject(
  { call_id: ZIdSchema, account_id: ZEntityIdSchema, agent_id: ZEntityIdSchema, direction: ZDirectionSchema },
  { error: "must be a JSON object" },
);

const ZAccountParamsSchema = z.object({
  account_id: z.guid("must be an account id").transform((id) => id.toLowerCase()),
});

const ZDateTimeSchema = z.iso.datetime();

const ZIngestResponseSchema = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  late: z.number().int(),
  results: z
    .array(
      z.object({
        call_id: z.string(),
        status: z.enum(["accepted", "duplicate", "rejected"]),
        billable_minutes: z.number().int().optional(),
        duration_seconds: z.number().int().optional(),
        period_start: ZDateTimeSchema.optional(),
        late: z
          .boolean()
          .optional()
          .meta({ description: "Counted in a closed billing period (before the current one)" }),
        reason: z.enum(USAGE_REJECTION_REASONS).optional(),
        message: z.string().optional(),
      }),
    )
    .meta({ description: "One per event, in order" }),
});

const ZAuthorizeResponseSchema = z.object({
  decision: z.enum(["allow", "deny"]),
  call_id: z.string(),
  reserved_minutes: z.number().int().optional(),
  expires_at: ZDateTimeSchema.optional(),
  over_cap: z.boolean().optional(),
  replayed: z.boolean().optional(),
  max_duration_seconds: z
    .number()
    .int()
    .nullable()
    .optional()
    .meta({
      description:
        "The most this call may last: end it after this many seconds. On a hard-cap package, what " +
        "is left of the included minutes once those used and those held by other calls are " +
        "counted (calls running at once share it; each is told what is left when it starts). " +
        "On an overage package with an overage budget (spend cap) set, what is left of the included " +
        "minutes plus the minutes the budget pays for, counted the same way. Null when no cap ends the " +
        "call: an overage package without a budget, or an inbound call, answered beyond the cap. Minutes a call runs beyond the cap are recorded as over-cap minutes, " +
        "shown to the customer and never billed.",
    }),
  reason: z.enum(CALL_DENIALS).optional(),
  message: z.string().optional(),
});

const ZUsageResponseSchema = z.object({
  account_id: z.string(),
  active: z.boolean().meta({
    description:
      "Whether the subscription grants access (calls are authorized). False after it ended: the " +
      "period is then its last one, never one after it, and calls are denied as no_active_subscription",
  }),
  subscription_status: z.string(),
  minutes_used: z.number().int(),
  minutes_limit: z.number().int(),
  minutes_remaining: z.number().int(),
  usage_percentage: z.number().meta({ description: "One decimal, may exceed 100" }),
  minutes_reserved: z.number().int(),
  period_start: ZDateTimeSchema,
  period_end: ZDateTimeSchema,
  overage_policy: z.enum(["billed", "hard_cap"]),
  overage_minutes: z.number().int().meta({ description: "Beyond the limit, billed (overage packages)" }),
  over_cap_minutes: z.number().int().meta({
    description: "Beyond a hard cap (calls the cap did not stop): recorded, never billed",
  }),
});

const ZPeriodSchema = z.object({ start: ZDateTimeSchema, end: ZDateTimeSchema });

const ZDailyUsageResponseSchema = z.object({
  period: ZPeriodSchema,
  days: z.array(
    z.object({
      day: z.iso.date(),
      minutes: z.number().int(),
      calls: z.number().int(),
      inbound_minutes: z.number().int(),
      outbound_minutes: z.number().int(),
    }),
  ),
});

const ZAgentUsageResponseSchema = z.object({
  period: ZPeriodSchema,
  agents: z.array(
    z.object({
      agent_id: z.string().nullable(),
      name: z.string(),
      active: z.boolean().nullable(),
      minutes: z.number().int(),
      calls: z.number().int(),
    }),
  ),
});

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Compares the bearer token with the configured one in constant time (over digests of equal length). */
export function meteringTokenMatches(authorization: string | undefined, expected: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  const given = match?.[1] ?? "";
  const equal = timingSafeEqual(digest(given), digest(expected));
  return match !== null && equal;
}

function ingestJson(result: IngestResult): z.input<typeof ZIngestResponseSchema> {
  return {
    accepted: result.accepted,
    duplicates: result.duplicates,
    rejected: result.rejected,
    late: result.late,
    results: result.results.map((r) => {
      if (r.status === "accepted") {
        return {
          call_id: r.callId,
          status: r.status,
          billable_minutes: r.billableMinutes,
          duration_seconds: r.durationSeconds,
          period_start: r.periodStart.toISOString(),
          late: r.late,
        };
      }
      if (r.status === "duplicate") return { call_id: r.callId, status: r.status };
      return { call_id: r.callId, status: r.status, reason: r.reason, message: r.message };
    }),
  };
}

/** The account of the path: a 404 naming account_id when there is none. */
async function requireAccount(db: Ports["db"], accountId: string): Promise<string> {
  const account = isUuid(accountId)
    ? await db.account.findUnique({ where: { id: accountId }, select: { id: true } })
    : null;
  if (!account) throw new AppError("NOT_FOUND", "No account has this account_id.", "account_id");
  return account.id;
}

/** Observes every ingested batch (the usage counters of /metrics). */
export type UsageIngestObserver = (result: IngestResult) => void;

export async function registerMeteringRoutes(
  app: FastifyInstance,
  deps: Ports & { config: Pick<Config, "meteringApiToken">; onUsageIngested?: UsageIngestObserver },
): Promise<void> {
  // Small reports that arrive while earlier ones are being written share the next transaction.
  const coalescer = new UsageIngestCoalescer((events) => ingestUsageEvents(deps, events));
  await app.register(async (scope) => {
    scope.addHook("onRequest", async (req) => {
      if (!meteringTokenMatches(req.headers.authorization, deps.config.meteringApiToken)) {
        throw new RestError(401, {
          error: "unauthorized",
          message: "Send the metering service token as `Authorization: Bearer <token>`.",
        });
      }
    });

    defineRoute(scope, {
      method: "POST",
      url: "/api/v1/usage/calls",
      tags: [TAG],
      summary: "Report finished calls (1 to 1000 per request); idempotent per (account_id, call_id)",
      description:
        `${ROUNDING} A call's key is (account_id, call_id): each counts once, in the billing period that ` +
        "contains its started_at. Reporting the same call again (same agent_id, direction, started_at " +
        'and duration in whole seconds) is "duplicate"; the same key with any of those different is ' +
        "rejected as call_id_conflict, naming what differs, and the recorded call stands. The same " +
        "call_id of another account is another call. An event before the account's current period is recorded in its " +
        "closed period and reported as accepted with late: true; it never counts towards the current " +
        "period. Events are rejected one by one, with a reason, when their account is unknown, their " +
        "agent is not the account's, the account never had a subscription, started_at is more than 5 " +
        "minutes in the future (started_in_future: the clock-skew allowance), more than " +
        `${LATE_WINDOW_DAYS} days in the past (too_old: the late window) or before the account's first ` +
        "subscription began (before_subscription), at or after the end of the account's last subscription " +
        "(no_active_subscription, as /api/v1/calls/authorize denies it: never stored nor billed; a call that " +
        "started before that end counts, late, in its last period), while the subscription was paused " +
        "(subscription_paused, as /api/v1/calls/authorize denies it, also when reported after the pause " +
        "ended: nothing is charged for a paused span, so the call is never stored nor billed), or the " +
        "duration is invalid. A malformed body is a 400 naming the field; JSON " +
        'types are never coerced (null, "60" or true for a number is a 400) and unknown fields are refused. ' +
        RETRY_GUIDANCE,
      security,
      body: ZIngestUsageRequestSchema,
      response: {
        200: ZIngestResponseSchema,
        400: errorResponses[400],
        401: errorResponses[401],
        413: errorResponses[413],
        503: errorResponses[503],
      },
      bodyLimit: 4 * 1024 * 1024,
      handler: async ({ body }) => {
        const result = await coalescer.submit(
          body.events.map((e) => ({
            callId: e.call_id,
            accountId: e.account_id,
            agentId: e.agent_id ?? null,
            direction: e.direction,
            startedAt: new Date(e.started_at),
            // An end is passed on as the call's whole seconds, counted from every digit (a Date would drop
            // what is finer than a millisecond); the service counts either the same way.
            durationSeconds:
              e.ended_at === undefined ? e.duration_seconds : wholeSecondsBetween(e.started_at, e.ended_at),
          })),
        );
        deps.onUsageIngested?.(result);
        return ingestJson(result);
      },
    });

    defineRoute(scope, {
      method: "POST",
      url: "/api/v1/calls/authorize",
      tags: [TAG],
      summary: "May this call start? Reserves minutes for it when it may",
      description:
        `An allowed call reserves ${RESERVATION_MINUTES} minutes until the usage event with the same ` +
        "call_id settles it, or for 30 minutes. Hard-cap packages allow a call while used + reserved + " +
        `${RESERVATION_MINUTES} minutes fit in the included minutes, checked atomically per account so ` +
        "concurrent calls cannot overshoot; beyond that inbound calls are still answered (over_cap: true) " +
        "and outbound calls are denied (minutes_exhausted). Packages with an overage price allow, unless the " +
        "customer set an overage budget (spend cap): then the same rule applies at the included minutes plus " +
        "the minutes the budget pays for, and outbound calls beyond it are denied (spend_cap_reached). " +
        "During a free trial no overage is billed: every package stops at its included minutes, and outbound " +
        "calls beyond them are denied (trial_allowance_reached). " +
        "An allowed call is told max_duration_seconds, the most it may last (null when no cap ends it); " +
        "the platform ends it then. Minutes beyond a hard cap are recorded as over-cap minutes " +
        "(over_cap_minutes in the usage reads), shown to the customer and the admins, and never billed. " +
        "A call's key is (account_id, call_id), as for usage events: authorizing the same call again " +
        "returns its reservation (replayed: true); the same key with another agent_id or direction is " +
        "denied (call_id_conflict); another account's call with the same call_id is another call. A malformed " +
        "body is a 400 naming the field; JSON types are never coerced and unknown fields are refused. " +
        RETRY_GUIDANCE,
      security,
      body: ZAuthorizeCallRequestSchema,
      response: {
        200: ZAuthorizeResponseSchema,
        400: errorResponses[400],
        401: errorResponses[401],
        413: errorResponses[413],
        503: errorResponses[503],
      },
      handler: async ({ body }) => {
        const result = await authorizeCallRequest(deps, {
          callId: body.call_id,
          accountId: body.account_id,
          agentId: body.agent_id,
          direction: body.direction,
        });
        return result.decision === "allow"
          ? {
              decision: result.decision,
              call_id: result.callId,
              reserved_minutes: result.reservedMinutes,
              expires_at: result.expiresAt.toISOString(),
              over_cap: result.overCap,
              replayed: result.replayed,
              max_duration_seconds: result.maxDurationSeconds,
            }
          : {
              decision: result.decision,
              call_id: result.callId,
              reason: result.reason,
              message: result.message,
            };
      },
    });

    defineRoute(scope, {
      method: "GET",
      url: "/api/v1/accounts/:account_id/usage",
      tags: [TAG],
      summary: "The account's usage in its current billing period",
      security,
      params: ZAccountParamsSchema,
      response: {
        200: ZUsageResponseSchema,
        404: errorResponses[404],
        401: errorResponses[401],
        412: errorResponses[412],
      },
      handler: async ({ params }) => {
        const accountId = await requireAccount(deps.db, params.account_id);
        const usage = await currentUsage(deps, accountId);
        if (!usage) throw new AppError("PRECONDITION_FAILED", "This account has no subscription.");
        return {
          account_id: accountId,
          active: usage.accessGranted,
          subscription_status: usage.status,
          minutes_used: usage.minutesUsed,
          minutes_limit: usage.minutesLimit,
          minutes_remaining: usage.minutesRemaining,
          usage_percentage: usage.usagePercentage,
          minutes_reserved: usage.minutesReserved,
          period_start: usage.period.start.toISOString(),
          period_end: usage.period.end.toISOString(),
          overage_policy: usage.overage.policy,
          overage_minutes: usage.overage.minutes,
          over_cap_minutes: usage.overage.overCapMinutes,
        };
      },
    });

    defineRoute(scope, {
      method: "GET",
      url: "/api/v1/accounts/:account_id/usage/daily",
      tags: [TAG],
      summary: "Minutes per UTC day of the current billing period (zero-filled)",
      security,
      params: ZAccountParamsSchema,
      response: {
        200: ZDailyUsageResponseSchema,
        404: errorResponses[404],
        401: errorResponses[401],
        412: errorResponses[412],
      },
      handler: async ({ params }) => {
        const accountId = await requireAccount(deps.db, params.account_id);
        const { period, days } = await dailyUsage(deps, accountId);
        return {
          period: { start: period.start.toISOString(), end: period.end.toISOString() },
          days: days.map((d) => ({
            day: d.day,
            minutes: d.minutes,
            calls: d.calls,
            inbound_minutes: d.inboundMinutes,
            outbound_minutes: d.outboundMinutes,
          })),
        };
      },
    });

    defineRoute(scope, {
      method: "GET",
      url: "/api/v1/accounts/:account_id/usage/agents",
      tags: [TAG],
      summary: "Minutes per agent in the current billing period",
      security,
      params: ZAccountParamsSchema,
      response: {
        200: ZAgentUsageResponseSchema,
        404: errorResponses[404],
        401: errorResponses[401],
        412: errorResponses[412],
      },
      handler: async ({ params }) => {
        const accountId = await requireAccount(deps.db, params.account_id);
        const { period, agents } = await usageByAgent(deps, accountId);
        return {
          period: { start: period.start.toISOString(), end: period.end.toISOString() },
          agents: agents.map((a) => ({
            agent_id: a.agentId,
            name: a.name,
            active: a.active,
            minutes: a.minutes,
            calls: a.calls,
          })),
        };
      },
    });
  });
}
