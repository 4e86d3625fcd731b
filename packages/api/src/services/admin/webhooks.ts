// The admin's view of the Stripe webhook log (stripe_event): every event received, its processing state,
// payload and last error, and a replay for failed ones. Lists page by keyset (received_at, id), newest
// first, on the indexes stripe_event(received_at) and stripe_event(status, received_at).
import { Prisma, type WebhookEventStatus } from "@minutely/db";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { writeAudit } from "../audit.ts";
import { replayStripeEvent, STRIPE_EVENT_MAX_ATTEMPTS } from "../subscriptions/index.ts";

/**
 * What the admin sees: `received` (waiting to be processed), `processed`, `retrying` (failed, and the
 * queue will try again: fewer than the maximum attempts so far) and `failed` (the queue gave up, or the
 * failure was permanent: Stripe does not know the object, `gave_up`).
 */
export const WEBHOOK_DISPLAY_STATUSES = ["received", "processed", "retrying", "failed"] as const;
export type WebhookDisplayStatus = (typeof WEBHOOK_DISPLAY_STATUSES)[number];

export function displayStatus(event: {
  status: WebhookEventStatus;
  attempts: number;
  gaveUp: boolean;
}): WebhookDisplayStatus {
  if (event.status !== "failed") return event.status;
  return event.attempts < STRIPE_EVENT_MAX_ATTEMPTS && !event.gaveUp ? "retrying" : "failed";
}

export interface WebhookCursor {
  receivedAt: Date;
  id: string;
}

export interface WebhookListInput {
  status?: WebhookDisplayStatus | undefined;
  /** An exact event type ("invoice.paid") or a prefix ending in a dot ("invoice."). */
  type?: string | undefined;
  cursor?: WebhookCursor | undefined;
  limit: number;
}

export interface WebhookListItem {
  id: string;
  type: string;
  status: WebhookDisplayStatus;
  attempts: number;
  lastError: string | null;
  stripeCreatedAt: Date;
  receivedAt: Date;
  processedAt: Date | null;
  /** The Stripe object the event is about (sub_..., in_...). */
  objectId: string | null;
}

interface ListRow {
  id: string;
  type: string;
  status: WebhookEventStatus;
  attempts: number;
  gave_up: boolean;
  last_error: string | null;
  stripe_created_at: Date;
  received_at: Date;
  processed_at: Date | null;
  object_id: string | null;
}

function statusCondition(status: WebhookDisplayStatus | undefined): Prisma.Sql {
  switch (status) {
    case undefined:
      return Prisma.empty;
    case "received":
    case "processed":
      return Prisma.sql`AND status = ${status}::"WebhookEventStatus"`;
    case "retrying":
      return Prisma.sql`AND status = 'failed' AND attempts < ${STRIPE_EVENT_MAX_ATTEMPTS} AND NOT gave_up`;
    case "failed":
      return Prisma.sql`AND status = 'failed' AND (attempts >= ${STRIPE_EVENT_MAX_ATTEMPTS} OR gave_up)`;
    default: {
      const unreachable: never = status;
      return unreachable;
    }
  }
}

function typeCondition(type: string | undefined): Prisma.Sql {
  const value = type?.trim();
  if (!value) return Prisma.empty;
  if (value.endsWith(".")) {
    return Prisma.sql`AND type LIKE ${`${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`;
  }
  return Prisma.sql`AND type = ${value}`;
}

/** Webhook events newest first, `limit` at a time; `nextCursor` continues after the last one. */
export async function listWebhookEvents(
  { db }: Pick<Ports, "db">,
  input: WebhookListInput,
): Promise<{
  items: WebhookListItem[];
  nextCursor: WebhookCursor | null;
  counts: { received: number; retrying: number; failed: number };
}> {
  const cursor = input.cursor
    ? Prisma.sql`AND (received_at, id) < (${input.cursor.receivedAt}, ${input.cursor.id})`
    : Prisma.empty;
  const [rows, counts] = await Promise.all([
    db.$queryRaw<ListRow[]>`
      SELECT id, type, status, attempts, gave_up, left(last_error, 300) AS last_error, stripe_created_at,
        received_at, processed_at, payload #>> '{data,object,id}' AS object_id
      FROM stripe_event
      WHERE true ${statusCondition(input.status)} ${typeCondition(input.type)} ${cursor}
      ORDER BY received_at DESC, id DESC
      LIMIT ${input.limit + 1}`,
    // The failed and waiting events are few: counted through the index on (status, received_at).
    db.$queryRaw<{ received: number; retrying: number; failed: number }[]>`
      SELECT count(*) FILTER (WHERE status = 'received')::int AS received,
        count(*) FILTER (WHERE status = 'failed' AND attempts < ${STRIPE_EVENT_MAX_ATTEMPTS} AND NOT gave_up)::int
          AS retrying,
        count(*) FILTER (WHERE status = 'failed' AND (attempts >= ${STRIPE_EVENT_MAX_ATTEMPTS} OR gave_up))::int
          AS failed
      FROM stripe_event WHERE status IN ('received', 'failed')`,
  ]);
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      id: r.id,
      type: r.type,
      status: displayStatus({ status: r.status, attempts: r.attempts, gaveUp: r.gave_up }),
      attempts: r.attempts,
      lastError: r.last_error,
      stripeCreatedAt: r.stripe_created_at,
      receivedAt: r.received_at,
      processedAt: r.processed_at,
      objectId: r.object_id,
    })),
    nextCursor: rows.length > input.limit && last ? { receivedAt: last.received_at, id: last.id } : null,
    counts: counts[0] ?? { received: 0, retrying: 0, failed: 0 },
  };
}

export interface WebhookEventDetail extends Omit<WebhookListItem, "lastError"> {
  lastError: string | null;
  maxAttempts: number;
  payload: unknown;
  /** The Minutely account the event's customer belongs to, when known. */
  account: { id: string; name: string } | null;
}

function customerIdOf(payload: unknown): string | null {
  const object = (payload as { data?: { object?: { object?: string; id?: string; customer?: unknown } } })
    ?.data?.object;
  if (!object) return null;
  if (object.object === "customer" && typeof object.id === "string") return object.id;
  const customer = object.customer;
  if (typeof customer === "string") return customer;
  if (customer && typeof customer === "object" && "id" in customer && typeof customer.id === "string") {
    return customer.id;
  }
  return null;
}

export async function webhookEventDetail({ db }: Pick<Ports, "db">, id: string): Promise<WebhookEventDetail> {
  const event = await db.stripeEvent.findUnique({ where: { id } });
  if (!event) throw new AppError("NOT_FOUND", "No such webhook event.", "id");
  const customerId = customerIdOf(event.payload);
  const account = customerId
    ? await db.account.findUnique({
        where: { stripeCustomerId: customerId },
        select: { id: true, name: true },
      })
    : null;
  const objectId = (event.payload as { data?: { object?: { id?: unknown } } })?.data?.object?.id;
  return {
    id: event.id,
    type: event.type,
    status: displayStatus(event),
    attempts: event.attempts,
    maxAttempts: STRIPE_EVENT_MAX_ATTEMPTS,
    lastError: event.lastError,
    stripeCreatedAt: event.stripeCreatedAt,
    receivedAt: event.receivedAt,
    processedAt: event.processedAt,
    objectId: typeof objectId === "string" ? objectId : null,
    payload: event.payload,
    account,
  };
}

/** Replays a failed event (queued again, processed by the worker) and records who did it. */
export async function replayWebhookEvent(
  ports: Ports,
  actor: Viewer,
  id: string,
): Promise<WebhookEventDetail> {
  const event = await ports.db.stripeEvent.findUnique({ where: { id } });
  if (!event) throw new AppError("NOT_FOUND", "No such webhook event.", "id");
  if (event.status !== "failed") {
    throw new AppError(
      "CONFLICT",
      event.status === "processed"
        ? "This event was processed; only failed events can be replayed."
        : "This event is waiting to be processed; only failed events can be replayed.",
      "id",
    );
  }
  await replayStripeEvent(ports, id);
  await writeAudit(
    ports.db,
    actor,
    {
      action: "webhook.replay",
      entityType: "stripe_event",
      entityId: id,
      before: { status: displayStatus(event), attempts: event.attempts, lastError: event.lastError },
      after: { status: "received", type: event.type },
    },
    ports.clock.now(),
  );
  return await webhookEventDetail(ports, id);
}
