// Money given back to a customer: an admin refunds an invoice's payment (all or part of it), issues a credit
// note on a paid invoice (the amount goes to the customer's Stripe balance) or credits the balance directly.
// Integer minor units with the invoice's (or the account's billing) currency.
//
// Never more than was paid: what is left of an invoice is what it collected minus its refunds and credit
// notes, Minutely's own (claimed, not yet confirmed, included) and those Stripe reported (its dashboard).
// An adjustment is first *claimed* in one short transaction that locks the invoice's row, checks the rest
// and inserts a `pending` invoice_adjustment row (unique per request key: a double click is one adjustment);
// Stripe is asked after the commit, with an idempotency key derived from the row, so no lock is held while
// Stripe answers and a retry of the same intent asks Stripe again with the same key (never twice).
// A refusal (more than Stripe has left) releases the claim (`failed`); when Stripe could not be reached
// the claim stays `pending` until a retry or the webhook (`charge.refunded`, `credit_note.created`,
// `customer.updated`) finds what Stripe did: reconciliation reads every refund and credit note of the
// invoice at Stripe, matches Minutely's rows by the metadata `minutely_adjustment_id` and records what was
// made elsewhere (source "stripe"), then stores the invoice's refunded and credited totals.
import { CURRENCIES } from "@minutely/domain";
import type { Ports, Viewer } from "../../context.ts";
import type { Db } from "../../db.ts";
import { AppError, UpstreamUnavailableError } from "../../errors.ts";
import { AdjustmentRefusedError, type ProviderAdjustment } from "../../ports/billing.ts";
import { writeAudit } from "../audit.ts";
import { accountBillingCurrency } from "./billing-currency.ts";
import { syncInvoice } from "./subscription-sync.ts";

export const ADJUSTMENT_KINDS = ["refund", "credit_note", "balance_credit"] as const;
export type AdjustmentKind = (typeof ADJUSTMENT_KINDS)[number];

/** The most one balance credit may be (100,000.00, the most a package may cost). */
export const MAX_BALANCE_CREDIT_CENTS = 10_000_000;
export const MAX_ADJUSTMENT_REASON_LENGTH = 500;
/**
 * A claim Stripe does not have after this long is released: no request is still asking (the SDK gives up
 * after its timeout and retries, about a minute) and a retry of it would have asked again meanwhile.
 */
export const STALE_CLAIM_MINUTES = 10;
/** The audit log's actor for a stale claim released (nobody asked; the next reconciliation did it). */
export const RELEASER_EMAIL = "minutely (claim released: Stripe never made it)";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The audit log's actor for what was found at Stripe (made in its dashboard, not in Minutely). */
export const STRIPE_ACTOR_EMAIL = "stripe@minutely (made in Stripe)";

export type AdjustmentInput =
  | { kind: "refund" | "credit_note"; invoiceId: string; amountCents: number | null; reason: string }
  | { kind: "balance_credit"; amountCents: number; currency: string; reason: string };

export interface AdjustmentView {
  id: string;
  kind: AdjustmentKind;
  status: "pending" | "succeeded" | "failed";
  amountCents: number;
  currency: string;
  reason: string;
  source: string;
  invoiceId: string | null;
  invoiceNumber: string | null;
  stripeObjectId: string | null;
  actorEmail: string | null;
  error: string | null;
  createdAt: Date;
}

type AdjustmentRow = Awaited<ReturnType<Db["invoiceAdjustment"]["findUniqueOrThrow"]>>;

const ACTION_OF: Record<AdjustmentKind, string> = {
  refund: "invoice.refund",
  credit_note: "invoice.credit_note",
  balance_credit: "account.balance_credit",
};

function view(row: AdjustmentRow, invoiceNumber: string | null = null): AdjustmentView {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    amountCents: row.amountCents,
    currency: row.currency,
    reason: row.reason,
    source: row.source,
    invoiceId: row.billingHistoryId,
    invoiceNumber,
    stripeObjectId: row.stripeObjectId,
    actorEmail: row.actorEmail,
    error: row.error,
    createdAt: row.createdAt,
  };
}

/** What an invoice can still give back: what it collected less its refunds and credit notes (any source). */
async function givenBackOf(db: Db, billingHistoryId: string): Promise<number> {
  const [row] = await db.$queryRaw<{ total: bigint | null }[]>`
    SELECT sum(amount_cents)::bigint AS total FROM invoice_adjustment
    WHERE billing_history_id = ${billingHistoryId}::uuid AND status IN ('pending', 'succeeded')
      AND kind IN ('refund', 'credit_note')`;
  return Number(row?.total ?? 0);
}

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency.toUpperCase()}`;

/**
 * Gives money back to one of the account's customers (see the file's comment). `requestKey` is the admin's
 * intent: the same key again answers the same adjustment (asking Stripe again only while it is pending).
 */
export async function adjustAccount(
  ports: Ports,
  actor: Viewer,
  accountId: string,
  input: AdjustmentInput,
  requestKey: string,
): Promise<AdjustmentView> {
  const account = await ports.db.account.findUnique({ where: { id: accountId } });
  if (!account) throw new AppError("NOT_FOUND", "No such customer.", "accountId");
  const reason = input.reason.trim();
  if (!reason) throw new AppError("BAD_REQUEST", "Say why (the customer sees it).", "reason");
  const key = `${accountId}:${requestKey}`;
  const earlier = await ports.db.invoiceAdjustment.findUnique({ where: { requestKey: key } });
  // The request idempotency (idempotent_request) forgets a key whose request failed (Stripe down) or expired;
  // the adjustment's key does not: another input under it is refused, never answered with the first one.
  if (earlier && !sameIntent(earlier, input, reason)) {
    throw new AppError(
      "CONFLICT",
      "This requestKey was already used for another refund or credit. Send a new requestKey for a new request.",
      "requestKey",
    );
  }
  const row = earlier ?? (await claim(ports, actor, account, input, reason, key));
  // A credit claimed before the account was deleted, its answer from Stripe lost: not asked again now (the
  // sweep records it if Stripe made it, or releases it), since nothing credits a deleted account.
  if (row.status === "pending" && account.deletedAt) refuseCreditToDeleted(row.kind);
  const done = row.status === "pending" ? await askStripe(ports, actor, row) : row;
  await expireCheckoutsInOtherCurrencies(ports, account.stripeCustomerId, done);
  return view(done);
}

/**
 * A balance credit fixes the Stripe customer's currency (before any purchase) or is in it: a subscription
 * Checkout page the customer has open in another currency could never be paid (Stripe refuses to combine
 * currencies on its Pay button), so it is expired. Again on a retry of the credit (the same key), should
 * Stripe have failed here the first time.
 */
async function expireCheckoutsInOtherCurrencies(
  ports: Ports,
  customerId: string | null,
  row: AdjustmentRow,
): Promise<void> {
  if (row.kind !== "balance_credit" || row.status !== "succeeded" || !customerId) return;
  await ports.billing.expireOtherSubscriptionCheckouts(
    customerId,
    null,
    `minutely-adjustment-${row.id}-expire`,
    row.currency.trim().toLowerCase(),
  );
}

/** Whether an earlier adjustment is what this input asks for (null "all that is left" matches any amount). */
function sameIntent(row: AdjustmentRow, input: AdjustmentInput, reason: string): boolean {
  if (row.kind !== input.kind || row.reason !== reason) return false;
  if (input.kind === "balance_credit") {
    return row.amountCents === input.amountCents && row.currency === input.currency;
  }
  return (
    row.billingHistoryId === input.invoiceId &&
    (input.amountCents === null || input.amountCents === row.amountCents)
  );
}

async function claim(
  ports: Ports,
  actor: Viewer,
  account: { id: string; stripeCustomerId: string | null; deletedAt: Date | null },
  input: AdjustmentInput,
  reason: string,
  requestKey: string,
): Promise<AdjustmentRow> {
  if (!account.stripeCustomerId) {
    throw new AppError("CONFLICT", "This customer has never been billed.", "accountId");
  }
  if (account.deletedAt) refuseCreditToDeleted(input.kind);
  if (input.kind === "balance_credit") {
    // Exactly as the edges validated it (usd, eur, gbp): another casing is refused, never coerced.
    const currency = input.currency;
    const billing = await accountBillingCurrency(ports, account.id);
    if (!(CURRENCIES as readonly string[]).includes(currency) || (billing !== null && billing !== currency)) {
      throw new AppError(
        "BAD_REQUEST",
        billing ? `The account is billed in ${billing.toUpperCase()}.` : "Not a billing currency.",
        "currency",
      );
    }
    if (input.amountCents > MAX_BALANCE_CREDIT_CENTS) {
      throw new AppError("BAD_REQUEST", `At most ${MAX_BALANCE_CREDIT_CENTS} minor units.`, "amountCents");
    }
    return await ports.db.$transaction(async (tx) => {
      await refuseIfDeletedMeanwhile(tx, account.id, input.kind);
      const row = await tx.invoiceAdjustment.create({
        data: {
          accountId: account.id,
          kind: "balance_credit",
          status: "pending",
          amountCents: input.amountCents,
          currency,
          reason,
          source: "admin",
          requestKey,
          actorEmail: actor.email,
          createdAt: ports.clock.now(),
        },
      });
      await audit(tx, ports, actor, row);
      return row;
    });
  }
  const found = await ports.db.billingHistory.findUnique({ where: { id: input.invoiceId } });
  // Another account's invoice is as unknown as one that does not exist (no hint that it does).
  if (!found || found.accountId !== account.id) {
    throw new AppError("NOT_FOUND", "No such invoice for this customer.", "invoiceId");
  }
  // Fresh from Stripe: what it collected and the PaymentIntent to refund.
  const invoice = (await syncInvoice(ports, found.stripeInvoiceId)) ?? found;
  if (invoice.status !== "paid") {
    throw new AppError(
      "CONFLICT",
      `Only a paid invoice can be ${input.kind === "refund" ? "refunded" : "credited"}; this one is ${invoice.status}.`,
      "invoiceId",
    );
  }
  if (invoice.amountPaidCents <= 0) {
    // Paid by the customer's balance (or a 0 invoice): nothing was collected, nothing can be given back.
    throw new AppError(
      "CONFLICT",
      "This invoice was paid from the customer's balance: nothing was collected on it to give back.",
      "invoiceId",
    );
  }
  if (input.kind === "refund" && !invoice.stripePaymentIntentId) {
    throw new AppError("CONFLICT", "This invoice was not paid by card: nothing to refund.", "invoiceId");
  }
  await reconcileInvoice(ports, invoice.id);
  return await ports.db.$transaction(async (tx) => {
    // The invoice's row is the claim's lock: two concurrent claims on it are checked one after the other.
    await tx.$queryRaw`SELECT id FROM billing_history WHERE id = ${invoice.id}::uuid FOR UPDATE`;
    await refuseIfDeletedMeanwhile(tx, account.id, input.kind);
    const twin = await tx.invoiceAdjustment.findUnique({ where: { requestKey } });
    if (twin) return twin;
    const left = invoice.amountPaidCents - (await givenBackOf(tx, invoice.id));
    const amountCents = input.amountCents ?? left;
    if (amountCents <= 0 || amountCents > left) {
      throw new AppError(
        "BAD_REQUEST",
        left <= 0
          ? "Nothing is left to give back on this invoice."
          : `At most ${money(left, invoice.currency)} is left to give back on this invoice (paid ${money(invoice.amountPaidCents, invoice.currency)}).`,
        "amountCents",
      );
    }
    const row = await tx.invoiceAdjustment.create({
      data: {
        accountId: account.id,
        billingHistoryId: invoice.id,
        kind: input.kind,
        status: "pending",
        amountCents,
        currency: invoice.currency,
        reason,
        source: "admin",
        requestKey,
        actorEmail: actor.email,
        createdAt: ports.clock.now(),
      },
    });
    await audit(tx, ports, actor, row, invoice.number ?? invoice.stripeInvoiceId);
    return row;
  });
}

/**
 * A deleted account's invoices are kept so that they can still be refunded (the money goes back to the
 * card), but nothing credits its Stripe balance any more (a credit note on a paid invoice, a balance
 * credit): no invoice will ever use it, and the deletion promised that nothing adds to the account.
 */
function refuseCreditToDeleted(kind: AdjustmentKind): void {
  if (kind === "refund") return;
  throw new AppError(
    "CONFLICT",
    "This account has been deleted: nothing can be credited to its balance any more. Refund the invoice to the card instead.",
    "kind",
  );
}

/**
 * Inside the claim's transaction: the account row read FOR SHARE waits for a deletion in progress (it holds
 * the row FOR UPDATE) and then sees `deleted_at`, so a credit racing the deletion is refused too.
 */
async function refuseIfDeletedMeanwhile(tx: Db, accountId: string, kind: AdjustmentKind): Promise<void> {
  if (kind === "refund") return;
  const [row] = await tx.$queryRaw<{ deleted_at: Date | null }[]>`
    SELECT deleted_at FROM account WHERE id = ${accountId}::uuid FOR SHARE`;
  if (row?.deleted_at) refuseCreditToDeleted(kind);
}

async function audit(db: Db, ports: Ports, actor: Viewer, row: AdjustmentRow, invoice?: string) {
  await writeAudit(
    db,
    actor,
    {
      action: ACTION_OF[row.kind],
      entityType: "account",
      entityId: row.accountId,
      after: {
        adjustmentId: row.id,
        ...(invoice ? { invoice } : {}),
        amountCents: row.amountCents,
        currency: row.currency,
        reason: row.reason,
      },
    },
    ports.clock.now(),
  );
}

/** Asks Stripe for a claimed adjustment (again, with the same key, for a retry of a pending one). */
async function askStripe(ports: Ports, actor: Viewer, row: AdjustmentRow): Promise<AdjustmentRow> {
  const idempotencyKey = `minutely-adjustment-${row.id}`;
  let made: ProviderAdjustment;
  try {
    if (row.kind === "balance_credit") {
      const account = await ports.db.account.findUniqueOrThrow({ where: { id: row.accountId } });
      made = await ports.billing.createBalanceCredit({
        customerId: account.stripeCustomerId ?? "",
        amountCents: row.amountCents,
        currency: row.currency,
        description: row.reason,
        adjustmentId: row.id,
        idempotencyKey,
      });
    } else {
      const invoice = await ports.db.billingHistory.findUniqueOrThrow({
        where: { id: row.billingHistoryId ?? "" },
      });
      made =
        row.kind === "refund"
          ? await ports.billing.refundPayment({
              paymentIntentId: invoice.stripePaymentIntentId ?? "",
              amountCents: row.amountCents,
              adjustmentId: row.id,
              idempotencyKey,
            })
          : await ports.billing.createCreditNote({
              invoiceId: invoice.stripeInvoiceId,
              paid: true,
              amountCents: row.amountCents,
              memo: row.reason,
              adjustmentId: row.id,
              idempotencyKey,
            });
    }
  } catch (error) {
    // Stripe could not be reached: it may have done it. The claim stays until a retry or the webhook says.
    if (error instanceof UpstreamUnavailableError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    await ports.db.$transaction(async (tx) => {
      await tx.invoiceAdjustment.update({
        where: { id: row.id },
        data: { status: "failed", error: message },
      });
      await writeAudit(
        tx,
        actor,
        {
          action: `${ACTION_OF[row.kind]}_failed`,
          entityType: "account",
          entityId: row.accountId,
          after: { adjustmentId: row.id, error: message },
        },
        ports.clock.now(),
      );
    });
    if (error instanceof AdjustmentRefusedError) {
      throw new AppError("BAD_REQUEST", `Stripe refused it: ${error.message}`, error.field);
    }
    throw error;
  }
  const done = await ports.db.invoiceAdjustment.update({
    where: { id: row.id },
    data: { status: "succeeded", stripeObjectId: made.id, error: null },
  });
  if (row.billingHistoryId) await reconcileInvoice(ports, row.billingHistoryId);
  return done;
}

/**
 * Records what Stripe has: Minutely's rows (by the metadata) become `succeeded`; what was made elsewhere is
 * added once (by its Stripe id) with an audit entry. Idempotent.
 */
async function recordFound(
  ports: Ports,
  accountId: string,
  billingHistoryId: string | null,
  found: readonly ProviderAdjustment[],
): Promise<void> {
  for (const adjustment of found) {
    // The metadata is anyone's to edit in Stripe's dashboard: only a UUID can name one of Minutely's rows.
    if (adjustment.adjustmentId && UUID.test(adjustment.adjustmentId)) {
      const { count } = await ports.db.invoiceAdjustment.updateMany({
        where: { id: adjustment.adjustmentId, accountId, status: { not: "succeeded" } },
        data: { status: "succeeded", stripeObjectId: adjustment.id, error: null },
      });
      if (count > 0) continue;
      const mine = await ports.db.invoiceAdjustment.findFirst({
        where: { id: adjustment.adjustmentId, accountId },
      });
      if (mine) continue;
    }
    await ports.db.$transaction(async (tx) => {
      const { count } = await tx.invoiceAdjustment.createMany({
        data: [
          {
            accountId,
            billingHistoryId,
            kind: adjustment.kind,
            status: "succeeded",
            amountCents: adjustment.amountCents,
            currency: adjustment.currency,
            reason: (adjustment.reason ?? "No reason given").slice(0, MAX_ADJUSTMENT_REASON_LENGTH),
            source: "stripe",
            stripeObjectId: adjustment.id,
            createdAt: adjustment.created,
          },
        ],
        skipDuplicates: true,
      });
      if (count === 0) return;
      await tx.auditLog.create({
        data: {
          actorUserId: null,
          actorEmail: STRIPE_ACTOR_EMAIL,
          action: ACTION_OF[adjustment.kind],
          entityType: "account",
          entityId: accountId,
          after: {
            stripeObjectId: adjustment.id,
            amountCents: adjustment.amountCents,
            currency: adjustment.currency,
            reason: adjustment.reason,
          },
          createdAt: ports.clock.now(),
        },
      });
    });
  }
}

/**
 * What Stripe took back (a credit note voided in its dashboard, a refund that failed or was canceled) no
 * longer counts as given back: its row becomes `failed` with why (the customer no longer sees it, Revenue no
 * longer counts it, the invoice has that much left again), audited once. Idempotent.
 */
async function recordUndone(
  ports: Ports,
  accountId: string,
  billingHistoryId: string,
  found: readonly ProviderAdjustment[],
): Promise<void> {
  for (const adjustment of found) {
    if (!adjustment.undone) continue;
    const mine =
      adjustment.adjustmentId && UUID.test(adjustment.adjustmentId) ? adjustment.adjustmentId : null;
    const rows = await ports.db.invoiceAdjustment.findMany({
      where: {
        accountId,
        billingHistoryId,
        status: { not: "failed" },
        OR: [{ stripeObjectId: adjustment.id }, ...(mine ? [{ id: mine }] : [])],
      },
    });
    const error =
      adjustment.undone === "void"
        ? "Voided in Stripe: nothing is given back."
        : `The refund ${adjustment.undone === "failed" ? "failed" : "was canceled"} at Stripe: nothing is given back.`;
    for (const row of rows) {
      await ports.db.$transaction(async (tx) => {
        const { count } = await tx.invoiceAdjustment.updateMany({
          where: { id: row.id, accountId, status: { not: "failed" } },
          data: { status: "failed", stripeObjectId: adjustment.id, error },
        });
        if (count === 0) return;
        await tx.auditLog.create({
          data: {
            actorUserId: null,
            actorEmail: STRIPE_ACTOR_EMAIL,
            action: `${ACTION_OF[row.kind]}_${adjustment.undone === "void" ? "voided" : "failed"}`,
            entityType: "account",
            entityId: row.accountId,
            after: { adjustmentId: row.id, stripeObjectId: adjustment.id, error },
            createdAt: ports.clock.now(),
          },
        });
      });
    }
  }
}

/**
 * Releases the invoice's claims that Stripe does not have and no request can still be asking for (older than
 * {@link STALE_CLAIM_MINUTES}: Stripe could not be reached and nobody retried). Their Stripe idempotency key
 * is only ever used by a retry of a pending claim, so a released claim is never made later.
 */
async function releaseStaleClaims(
  ports: Ports,
  accountId: string,
  /** The invoice whose claims these are; null: the account's balance credits. */
  billingHistoryId: string | null,
  found: readonly ProviderAdjustment[],
): Promise<void> {
  const before = new Date(ports.clock.now().getTime() - STALE_CLAIM_MINUTES * 60_000);
  const atStripe = found.flatMap((a) =>
    a.adjustmentId && UUID.test(a.adjustmentId) ? [a.adjustmentId] : [],
  );
  const stale = await ports.db.invoiceAdjustment.findMany({
    where: {
      accountId,
      billingHistoryId,
      ...(billingHistoryId === null ? { kind: "balance_credit" as const } : {}),
      status: "pending",
      createdAt: { lt: before },
      id: { notIn: atStripe },
    },
  });
  const error = "Stripe could not be reached and never made it: released, nothing was given back.";
  for (const row of stale) {
    await ports.db.$transaction(async (tx) => {
      const { count } = await tx.invoiceAdjustment.updateMany({
        where: { id: row.id, accountId, status: "pending" },
        data: { status: "failed", error },
      });
      if (count === 0) return;
      await tx.auditLog.create({
        data: {
          actorUserId: null,
          actorEmail: RELEASER_EMAIL,
          action: `${ACTION_OF[row.kind]}_failed`,
          entityType: "account",
          entityId: row.accountId,
          after: { adjustmentId: row.id, error },
          createdAt: ports.clock.now(),
        },
      });
    });
  }
}

/** Brings an invoice's refunds and credit notes, and its refunded and credited totals, in line with Stripe. */
export async function reconcileInvoice(ports: Ports, billingHistoryId: string): Promise<void> {
  const invoice = await ports.db.billingHistory.findUnique({ where: { id: billingHistoryId } });
  if (!invoice) return;
  const found = await ports.billing.listInvoiceAdjustments(
    invoice.stripeInvoiceId,
    invoice.stripePaymentIntentId,
  );
  const live = found.filter((a) => !a.undone);
  await recordFound(ports, invoice.accountId, invoice.id, live);
  await recordUndone(ports, invoice.accountId, invoice.id, found);
  await releaseStaleClaims(ports, invoice.accountId, invoice.id, found);
  const sum = (kind: ProviderAdjustment["kind"]) =>
    live.filter((a) => a.kind === kind).reduce((total, a) => total + a.amountCents, 0);
  await ports.db.billingHistory.update({
    where: { id: invoice.id },
    data: { refundedCents: sum("refund"), creditedCents: sum("credit_note") },
  });
}

/**
 * After `charge.refunded` (or `refund.*`): the invoice its PaymentIntent paid is reconciled. An invoice
 * Minutely does not know yet (its invoice.paid not processed: webhooks come in any order) is asked of Stripe
 * and synced first; a payment of no invoice (a one-off charge) is none of Minutely's.
 */
export async function reconcilePaymentRefunds(ports: Ports, paymentIntentId: string): Promise<void> {
  const known = await ports.db.billingHistory.findFirst({
    where: { stripePaymentIntentId: paymentIntentId },
    select: { id: true },
  });
  if (known) return await reconcileInvoice(ports, known.id);
  const stripeInvoiceId = await ports.billing.invoiceOfPayment(paymentIntentId);
  const invoice = stripeInvoiceId ? await syncInvoice(ports, stripeInvoiceId) : null;
  if (invoice) await reconcileInvoice(ports, invoice.id);
}

/** After `credit_note.*`: its invoice is synced and reconciled. */
export async function reconcileCreditNoteInvoice(ports: Ports, stripeInvoiceId: string): Promise<void> {
  const invoice = await syncInvoice(ports, stripeInvoiceId);
  if (invoice) await reconcileInvoice(ports, invoice.id);
}

/** After `customer.updated` (a balance change): the customer's balance credits made by hand are recorded. */
export async function reconcileBalanceCredits(ports: Ports, stripeCustomerId: string): Promise<void> {
  const account = await ports.db.account.findUnique({ where: { stripeCustomerId } });
  if (!account) return;
  await recordFound(ports, account.id, null, await ports.billing.listBalanceCredits(stripeCustomerId));
}

/** How many stale claims (invoices or accounts) one sweep looks at; the rest wait for the next one. */
export const SWEEP_LIMIT = 200;

/**
 * The periodic safety net for claims nobody looks at again (the admin gave up after Stripe was down, and no
 * webhook or later refund of the invoice reconciles it): each invoice with a claim pending longer than
 * {@link STALE_CLAIM_MINUTES} is reconciled (a refund or credit note Stripe made is recorded, one it never
 * made is released), and so are each account's stale balance credits. Returns what could not be checked.
 */
export async function sweepStaleAdjustmentClaims(
  ports: Ports,
): Promise<{ checked: number; failed: { id: string; error: string; cause: unknown }[] }> {
  const before = new Date(ports.clock.now().getTime() - STALE_CLAIM_MINUTES * 60_000);
  const stale = await ports.db.invoiceAdjustment.findMany({
    where: { status: "pending", createdAt: { lt: before } },
    select: { accountId: true, billingHistoryId: true },
    distinct: ["accountId", "billingHistoryId"],
    take: SWEEP_LIMIT,
  });
  const failed: { id: string; error: string; cause: unknown }[] = [];
  for (const { accountId, billingHistoryId } of stale) {
    try {
      if (billingHistoryId !== null) {
        await reconcileInvoice(ports, billingHistoryId);
        continue;
      }
      const account = await ports.db.account.findUnique({ where: { id: accountId } });
      if (!account?.stripeCustomerId) continue;
      const found = await ports.billing.listBalanceCredits(account.stripeCustomerId);
      await recordFound(ports, accountId, null, found);
      await releaseStaleClaims(ports, accountId, null, found);
    } catch (error) {
      failed.push({
        id: billingHistoryId ?? accountId,
        error: error instanceof Error ? error.message : String(error),
        cause: error,
      });
    }
  }
  return { checked: stale.length, failed };
}

/** An account's adjustments, newest first (the admin's customer page, the customer's billing page). */
export async function adjustmentsOf(
  ports: Pick<Ports, "db">,
  accountId: string,
  options: { succeededOnly?: boolean } = {},
): Promise<AdjustmentView[]> {
  const rows = await ports.db.invoiceAdjustment.findMany({
    where: { accountId, ...(options.succeededOnly ? { status: "succeeded" as const } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    include: { invoice: { select: { number: true, stripeInvoiceId: true } } },
    take: 100,
  });
  return rows.map((r) => view(r, r.invoice ? (r.invoice.number ?? r.invoice.stripeInvoiceId) : null));
}

/** What the customer sees of its refunds and credits (no admin's email, no failed attempt). */
export async function creditsOf(ports: Pick<Ports, "db">, accountId: string) {
  return (await adjustmentsOf(ports, accountId, { succeededOnly: true })).map((a) => ({
    id: a.id,
    kind: a.kind,
    amountCents: a.amountCents,
    currency: a.currency,
    reason: a.reason,
    invoiceId: a.invoiceId,
    invoiceNumber: a.invoiceNumber,
    createdAt: a.createdAt,
  }));
}
