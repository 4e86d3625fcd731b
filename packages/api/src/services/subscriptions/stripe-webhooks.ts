// Stripe webhooks: verified on the raw body, recorded once (the event id is the primary key of
// stripe_event, the dedupe table) and acknowledged at once; a queued job processes the event. Processing
// never trusts the event's order or its payload's freshness: it re-reads the objects from Stripe.
import { Prisma } from "@minutely/db";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { GroupCommit, type GroupCommitOptions } from "../../group-commit.ts";
import { classifyFailure } from "../../jobs/failure-kind.ts";
import { TASKS } from "../../jobs/tasks.ts";
import { ProviderResourceMissingError } from "../../ports/billing.ts";
import {
  reconcileBalanceCredits,
  reconcileCreditNoteInvoice,
  reconcilePaymentRefunds,
  resolveDuplicateSubscriptions,
  syncInvoice,
  syncSubscription,
} from "../billing/index.ts";
import { ownerOf } from "../owner.ts";
import { applyPackCheckout, applyPackPaymentIntent, applyTopUpPaymentFailed } from "../packs/index.ts";
import { rebillVoidedRenewal } from "./pause.ts";
import { applyCompletedCheckout } from "./subscriptions.ts";
import { reconcileReverseCharge } from "./tax-details.ts";
import { claimTrialCard, notifyTrialEnded, notifyTrialWillEnd } from "./trials.ts";

/** How often the queue tries an event before giving up (a failed event below this is still retried). */
export const STRIPE_EVENT_MAX_ATTEMPTS = TASKS["process-stripe-event"].maxAttempts;

/** What a webhook request brings: its exact bytes and the Stripe-Signature header. */
export interface StripeWebhookInput {
  rawBody: Buffer;
  signature: string | undefined;
  secret: string;
  /**
   * When the request arrived, by the wall clock (default: now). Stripe signs with real time, even for a
   * customer on a test clock, so the signature's tolerance is measured against real time, not ports.clock
   * (which tests fix and billing simulations move).
   */
  receivedAt?: Date;
  /**
   * The receiver's own checks of the body (the route's: UTF-8, JSON, the event's envelope), run once the
   * signature holds: a forged body costs a hash, never a parse. Throws to refuse the body.
   */
  checkBody?: (rawBody: Buffer) => void;
}

/** A signed event, checked and ready to be recorded. */
export interface VerifiedStripeEvent {
  id: string;
  type: string;
  created: Date;
  /** The body as Stripe sent it (the route refused anything that is not a JSON Stripe event). */
  payload: string;
  /** ports.clock's now when it arrived (stripe_event.received_at). */
  receivedAt: Date;
  /** The queue of its processing job (one per Stripe customer, see eventQueue). */
  queueName: string | null;
}

/**
 * Checks the signature on the raw body first (400 naming `stripe-signature` otherwise), then the body
 * (`checkBody`, then a 400 naming `body` when it is no JSON); touches no database.
 */
export function verifyStripeWebhook(
  ports: Pick<Ports, "billing" | "clock">,
  input: StripeWebhookInput,
): VerifiedStripeEvent {
  if (!input.signature)
    throw new AppError("BAD_REQUEST", "Missing Stripe-Signature header.", "stripe-signature");
  try {
    ports.billing.verifyWebhookSignature(
      input.rawBody,
      input.signature,
      input.secret,
      input.receivedAt ?? new Date(),
    );
  } catch {
    throw new AppError("BAD_REQUEST", "Invalid Stripe signature.", "stripe-signature");
  }
  input.checkBody?.(input.rawBody);
  let event: ReturnType<Ports["billing"]["readWebhookEvent"]>;
  try {
    event = ports.billing.readWebhookEvent(input.rawBody);
  } catch {
    throw new AppError("BAD_REQUEST", "The event is not JSON; Stripe sends events as JSON.", "body");
  }
  const queueName = eventQueue(event.object) ?? null;
  if (queueName !== null && queueName.length > MAX_QUEUE_NAME_LENGTH) {
    // graphile-worker refuses a longer queue name (a check constraint): the insert would fail with a 500.
    throw new AppError(
      "BAD_REQUEST",
      `The event's customer id is longer than ${MAX_QUEUE_NAME_LENGTH - CUSTOMER_QUEUE_PREFIX.length} characters (Stripe's are far shorter).`,
      isCustomer(event.object) ? "data.object.id" : "data.object.customer",
    );
  }
  return {
    id: event.id,
    type: event.type,
    created: event.created,
    payload: input.rawBody.toString("utf8"),
    receivedAt: ports.clock.now(),
    queueName,
  };
}

/**
 * Records events and queues each one recorded for processing, all in one statement: an event already
 * recorded (a redelivery), or repeated earlier in `events`, inserts nothing and queues nothing. True for
 * each event this call recorded, in order. Rows are inserted in id order, so two calls with overlapping
 * events wait for each other instead of deadlocking.
 */
export async function recordStripeEvents(
  ports: Pick<Ports, "queue">,
  events: readonly VerifiedStripeEvent[],
): Promise<boolean[]> {
  if (events.length === 0) return [];
  const rows = JSON.stringify(
    events.map((e) => [
      e.id,
      e.type,
      e.payload,
      e.created.toISOString(),
      e.receivedAt.toISOString(),
      e.queueName,
    ]),
  );
  const recorded = await ports.queue.recordAndEnqueue<{ id: string }, "process-stripe-event">(
    "process-stripe-event",
    (enqueueAll) => Prisma.sql`
      WITH input AS MATERIALIZED (
        SELECT DISTINCT ON (i.v->>0) i.v->>0 AS id, i.v->>1 AS type, (i.v->>2)::jsonb AS payload,
          (i.v->>3)::timestamptz AS created, (i.v->>4)::timestamptz AS received_at, i.v->>5 AS queue_name
        FROM jsonb_array_elements(${rows}::jsonb) WITH ORDINALITY AS i(v, n)
        ORDER BY i.v->>0, i.n
      ), inserted AS (
        INSERT INTO stripe_event (id, type, payload, stripe_created_at, received_at)
        SELECT id, type, payload, created, received_at FROM input ORDER BY id
        ON CONFLICT (id) DO NOTHING
        RETURNING id
      ), jobs AS (
        SELECT count(*) AS n FROM ${enqueueAll(Prisma.sql`
          SELECT json_build_object('eventId', input.id) AS payload, 'stripe-event:' || input.id AS job_key,
            input.queue_name
          FROM inserted JOIN input ON input.id = inserted.id
          ORDER BY input.id`)}
      )
      SELECT inserted.id FROM inserted, jobs`,
    { maxAttempts: STRIPE_EVENT_MAX_ATTEMPTS },
  );
  const inserted = new Set(recorded.map((r) => r.id));
  // Only an event's first occurrence in `events` counts as recorded by this call.
  const seen = new Set<string>();
  return events.map((e) => {
    const first = !seen.has(e.id);
    seen.add(e.id);
    return first && inserted.has(e.id);
  });
}

/** Verifies, records and queues one delivery (the webhook route groups concurrent ones: StripeWebhookInbox). */
export async function receiveStripeWebhook(
  ports: Ports,
  input: StripeWebhookInput,
): Promise<{ id: string; duplicate: boolean }> {
  const event = verifyStripeWebhook(ports, input);
  const [inserted] = await recordStripeEvents(ports, [event]);
  return { id: event.id, duplicate: !inserted };
}

/**
 * The webhook route's acknowledgements with group commit (group-commit.ts): deliveries that arrive while the
 * write slots are busy are recorded together in one statement, their jobs queued in one call, each delivery
 * answered as if alone (a redelivery still says duplicate) and only once its event is committed.
 */
export class StripeWebhookInbox {
  private readonly groups: GroupCommit<VerifiedStripeEvent, boolean>;

  constructor(
    private readonly ports: Ports,
    options: GroupCommitOptions<VerifiedStripeEvent> = {},
  ) {
    this.groups = new GroupCommit((events) => recordStripeEvents(ports, events), {
      // Bounded by bytes (an event is up to 1 MiB, the route's body limit; most are a few kB): one statement
      // carries at most about 2 MiB of events, or a single larger one.
      maxGroupSize: 2 * 1024 * 1024,
      // 64 MiB of deliveries may wait for a slot; beyond, a 503 that Stripe retries.
      maxWaiting: 64 * 1024 * 1024,
      sizeOf: (event) => Buffer.byteLength(event.payload),
      ...options,
    });
  }

  async receive(input: StripeWebhookInput): Promise<{ id: string; duplicate: boolean }> {
    const event = verifyStripeWebhook(this.ports, input);
    const inserted = await this.groups.submit(event);
    return { id: event.id, duplicate: !inserted };
  }
}

type StripeObject = {
  id?: string;
  object?: string;
  subscription?: unknown;
  customer?: unknown;
  parent?: unknown;
  payment_intent?: unknown;
  invoice?: unknown;
  mode?: unknown;
  default_payment_method?: unknown;
};

function idOf(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && "id" in value && typeof value.id === "string") return value.id;
  return null;
}

/**
 * The queue of an event's job: one per Stripe customer, so a customer's events are processed one at a time
 * (events of different customers still run in parallel). Two events about the same thing then never race:
 * Stripe's first failed charge and its retry both email "payment failed" under one dedupe key, and processed
 * at once both tried to store that one message (the second failed with a unique violation and was retried).
 */
function eventQueue(eventObject: unknown): string | undefined {
  const object = eventObject as StripeObject | null | undefined;
  const customerId = isCustomer(object) ? idOf(object?.id) : idOf(object?.customer);
  return customerId ? `${CUSTOMER_QUEUE_PREFIX}${customerId}` : undefined;
}

/** Whether the event is about a customer itself (its id is then the customer's). */
function isCustomer(eventObject: unknown): boolean {
  return (eventObject as StripeObject | null | undefined)?.object === "customer";
}

const CUSTOMER_QUEUE_PREFIX = "stripe-customer:";
/** The longest queue name graphile-worker takes (`length(queue_name) <= 128` on its job_queues table). */
const MAX_QUEUE_NAME_LENGTH = 128;

function invoiceSubscriptionId(object: StripeObject): string | null {
  const parent = object.parent as { subscription_details?: { subscription?: unknown } } | null | undefined;
  return idOf(parent?.subscription_details?.subscription) ?? idOf(object.subscription);
}

async function notifyPaymentFailed(ports: Ports, invoiceId: string): Promise<void> {
  const invoice = await ports.db.billingHistory.findUnique({ where: { stripeInvoiceId: invoiceId } });
  if (!invoice) return;
  const owner = await ownerOf(ports.db, invoice.accountId);
  if (!owner) return;
  const amount = (invoice.amountDueCents / 100).toFixed(2);
  await ports.mailer.send({
    to: owner.email,
    subject: "Your Minutely payment failed",
    text:
      `We could not charge your card for invoice ${invoice.number ?? invoice.stripeInvoiceId} ` +
      `(${amount} ${invoice.currency.toUpperCase()}). Your subscription is past due. ` +
      `Update your card in Minutely (Billing > Update card) to keep your calls running.`,
    dedupeKey: `payment-failed:${invoiceId}`,
  });
}

/** Events after which an account may hold a second live subscription (a second Checkout page paid). */
const DUPLICATE_CHECK_EVENTS = new Set([
  "customer.subscription.created",
  "checkout.session.completed",
  "invoice.paid",
]);

/** At most one live subscription per account: a second one is canceled and refunded (see the service). */
async function guardOneSubscription(ports: Ports, object: StripeObject, eventId: string): Promise<void> {
  const customerId = idOf(object.customer);
  if (!customerId) return;
  const account = await ports.db.account.findUnique({ where: { stripeCustomerId: customerId } });
  if (account) await resolveDuplicateSubscriptions(ports, account.id, { stripeEventId: eventId });
}

/** A customer.updated event that changed the customer's balance. */
function balanceChanged(payload: unknown): boolean {
  return previousHas(payload, "balance");
}

/** Whether an `*.updated` event's previous attributes hold `key` (it changed). */
function previousHas(payload: unknown, key: string): boolean {
  const previous = (payload as { data?: { previous_attributes?: Record<string, unknown> } } | null)?.data
    ?.previous_attributes;
  return previous !== undefined && previous !== null && key in previous;
}

/** Applies one recorded event. Idempotent: syncing again changes nothing; mail is deduplicated. */
export async function processStripeEvent(ports: Ports, eventId: string): Promise<void> {
  const event = await ports.db.stripeEvent.findUnique({ where: { id: eventId } });
  if (!event || event.status === "processed") return;
  // An attempt is counted with its outcome (processed, or failed on its own account), not when it starts:
  // a run that could not reach Stripe or the database does not count, as the queue does not count it
  // either (classifyFailure), so the admin's "retrying" versus "failed" stays true through an outage.
  try {
    const object = ((event.payload as { data?: { object?: StripeObject } }).data?.object ??
      {}) as StripeObject;
    const type = event.type;
    if (type.startsWith("customer.subscription.") && object.id) {
      await syncSubscription(ports, object.id);
      // A trial created with a card (given up front, or in Checkout) whose request never recorded the card
      // (its answer lost, the tab closed): the card is claimed now, one trial per card (trials.ts). Only the
      // creation's: a card added later to a trial without one ("Add a card") is recordTrialCard's.
      if (type === "customer.subscription.created" && idOf(object.default_payment_method)) {
        await claimTrialCard(ports, object.id);
      }
      // Free trials: warned 3 days before the end, and told on the day it ended (deduplicated mail).
      if (type === "customer.subscription.trial_will_end") await notifyTrialWillEnd(ports, object.id);
      else await notifyTrialEnded(ports, object.id);
    } else if (type === "checkout.session.completed" && object.id && object.mode === "payment") {
      // A minute pack bought through Checkout (payment mode): granted once (packs/packs.ts).
      await applyPackCheckout(ports, object.id);
    } else if (type === "checkout.session.completed" && object.id) {
      await applyCompletedCheckout(ports, object.id);
    } else if (type === "payment_intent.succeeded" && object.id) {
      // A minute pack bought with the saved card: granted once, if its charge's answer has not already.
      await applyPackPaymentIntent(ports, object.id);
    } else if (type === "payment_intent.payment_failed" && object.id) {
      // An auto top-up's charge failed: recorded, emailed and auto top-up stopped, once (never retried).
      await applyTopUpPaymentFailed(ports, object.id);
    } else if (type.startsWith("customer.discount.")) {
      // A coupon redeemed onto a subscription, used up (once) or over (repeating): its mirror follows.
      const subscriptionId = idOf(object.subscription);
      if (subscriptionId) await syncSubscription(ports, subscriptionId);
    } else if (type.startsWith("subscription_schedule.")) {
      const subscriptionId = idOf(object.subscription);
      if (subscriptionId) await syncSubscription(ports, subscriptionId);
    } else if (type.startsWith("invoice.") && type !== "invoice.upcoming" && object.id) {
      // invoice.upcoming carries a preview of the next renewal (`upcoming_in_…`), not an invoice Stripe can
      // return: there is nothing to sync until invoice.created.
      const subscriptionId = invoiceSubscriptionId(object);
      if (subscriptionId) await syncSubscription(ports, subscriptionId);
      await syncInvoice(ports, object.id);
      if (type === "invoice.payment_failed") await notifyPaymentFailed(ports, object.id);
      if (type === "invoice.voided") await rebillVoidedRenewal(ports, object.id);
    } else if (type === "charge.refunded" || type.startsWith("refund.")) {
      // A refund, Minutely's or one made in Stripe's dashboard: the invoice its payment paid is reconciled.
      const paymentIntentId = idOf(object.payment_intent);
      if (paymentIntentId) await reconcilePaymentRefunds(ports, paymentIntentId);
    } else if (type.startsWith("credit_note.")) {
      const invoiceId = idOf(object.invoice);
      if (invoiceId) await reconcileCreditNoteInvoice(ports, invoiceId);
    } else if (type === "customer.updated" && balanceChanged(event.payload) && object.id) {
      // The emulator announces a balance change as customer.updated (with `balance` among the previous
      // attributes): balance credits made by hand in Stripe are recorded.
      await reconcileBalanceCredits(ports, object.id);
    } else if (type.startsWith("customer_balance_transaction.")) {
      const customerId = idOf(object.customer);
      if (customerId) await reconcileBalanceCredits(ports, customerId);
    }
    // A tax ID added, removed or (un)verified, or the address changed, at Stripe: the reverse charge follows.
    const taxCustomerId = type.startsWith("customer.tax_id.")
      ? idOf(object.customer)
      : type === "customer.updated" && previousHas(event.payload, "address")
        ? (object.id ?? null)
        : null;
    if (taxCustomerId) await reconcileReverseCharge(ports, taxCustomerId);
    if (DUPLICATE_CHECK_EVENTS.has(type)) await guardOneSubscription(ports, object, eventId);
    await ports.db.stripeEvent.update({
      where: { id: eventId },
      data: {
        status: "processed",
        processedAt: ports.clock.now(),
        lastError: null,
        attempts: { increment: 1 },
      },
    });
  } catch (error) {
    if (classifyFailure(error).kind === "infrastructure") {
      // Recorded when the database can be written (Stripe is the one down): the event waits, not counted.
      await ports.db.stripeEvent
        .update({
          where: { id: eventId },
          data: { status: "failed", lastError: error instanceof Error ? error.message : String(error) },
        })
        .catch(() => undefined);
      throw error;
    }
    if (error instanceof ProviderResourceMissingError) {
      // Stripe answered 404 for an object the event is about: no retry will make it exist. The event fails
      // for good at once (the job ends here, so the queue does not retry it); an admin can still replay it.
      await ports.db.stripeEvent.update({
        where: { id: eventId },
        data: {
          status: "failed",
          gaveUp: true,
          lastError: `Not retried: ${error.message} (Stripe answered 404 resource_missing).`,
          attempts: { increment: 1 },
        },
      });
      return;
    }
    await ports.db.stripeEvent.update({
      where: { id: eventId },
      data: {
        status: "failed",
        lastError: error instanceof Error ? error.message : String(error),
        attempts: { increment: 1 },
      },
    });
    throw error;
  }
}

/**
 * An admin replays a failed event: it is processed again from the queue, with a fresh count of attempts
 * (so "retrying" versus "gave up" describes the replay; the audit log keeps the attempts before it).
 */
export async function replayStripeEvent(ports: Ports, eventId: string): Promise<void> {
  const event = await ports.db.stripeEvent.findUnique({ where: { id: eventId } });
  if (!event) throw new AppError("NOT_FOUND", "No such event.", "id");
  await ports.db.$transaction(async (tx) => {
    await tx.stripeEvent.update({
      where: { id: eventId },
      data: { status: "received", attempts: 0, gaveUp: false },
    });
    await ports.queue.enqueue(
      "process-stripe-event",
      { eventId },
      {
        jobKey: `stripe-event:${eventId}:replay`,
        maxAttempts: STRIPE_EVENT_MAX_ATTEMPTS,
        queueName: eventQueue((event.payload as { data?: { object?: unknown } } | null)?.data?.object),
      },
      tx,
    );
  });
}
