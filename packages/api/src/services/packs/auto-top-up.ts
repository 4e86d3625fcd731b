// Auto top-up: when the account's pack balance falls below the threshold its customer set, buy the chosen
// pack with the saved card off-session, at most N times a calendar month (UTC, by the account's now).
//
// - Triggered by metering: a draw from packs enqueues `pack-top-up` for the account (one pending job per
//   account: jobKey), in the drawing transaction.
// - Exactly one purchase per crossing: the job claims a `pack_top_up` row (unique per account, month and
//   sequence number; concurrent runs claim one, the other inserts nothing) in a short transaction, charges
//   Stripe with no transaction or lock open (idempotency key from the claim's id: a retry after a crash
//   resumes the claim with the same key and Stripe returns the same PaymentIntent) and records the answer
//   in another; a success grants the pack (`payment_intent:<id>`, once, as its webhook would).
// - A decline or a bank's request for 3-D Secure is recorded on the claim, shown, emailed to the owner, and
//   stops auto top-up until the customer saves the settings again: never retried in a loop.
import {
  autoTopUpDue,
  MAX_AUTO_TOP_UP_THRESHOLD_MINUTES,
  MAX_AUTO_TOP_UPS_PER_MONTH,
  packMinutesAvailable,
  topUpMonth,
} from "@minutely/domain";
import { z } from "zod";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { writeAudit } from "../audit.ts";
import { lockLiveAccount } from "../live-account.ts";
import { endedBy, enqueuePackTopUp, loadMeteringSubscription, nowFor } from "../metering/index.ts";
import { ownerOf } from "../owner.ts";
import { assertMayBuyPacks, grantForPayment, purchasable } from "./packs.ts";

/** A claim left pending this long is taken to be abandoned (a crash) and resumed with its own key. */
const PENDING_RESUME_MS = 5 * 60_000;

export const ZAutoTopUpInputSchema = z
  .strictObject({
    packId: z.uuid("Not a pack id"),
    thresholdMinutes: z
      .number({ error: "The threshold must be a number" })
      .int("The threshold must be a whole number of minutes")
      .min(1, "The threshold must be at least 1 minute")
      .max(
        MAX_AUTO_TOP_UP_THRESHOLD_MINUTES,
        `The threshold can be at most ${MAX_AUTO_TOP_UP_THRESHOLD_MINUTES.toLocaleString("en-US")} minutes`,
      ),
    maxPerMonth: z
      .number({ error: "The monthly maximum must be a number" })
      .int("The monthly maximum must be a whole number")
      .min(1, "At least 1 top-up a month")
      .max(MAX_AUTO_TOP_UPS_PER_MONTH, `At most ${MAX_AUTO_TOP_UPS_PER_MONTH} top-ups a month`),
  })
  .nullable();
export type AutoTopUpInput = z.infer<typeof ZAutoTopUpInputSchema>;

export interface AutoTopUpView {
  settings: { packId: string; thresholdMinutes: number; maxPerMonth: number } | null;
  /** A failed top-up stopped it (until the settings are saved again): when, and why. */
  stopped: { at: Date; message: string | null } | null;
  /** This month's top-ups, newest first. */
  thisMonth: { id: string; status: string; message: string | null; createdAt: Date }[];
  maxPerMonthLimit: number;
}

export async function autoTopUpView(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<AutoTopUpView> {
  const account = await ports.db.account.findUnique({ where: { id: accountId } });
  if (!account) throw new AppError("NOT_FOUND", "This account does not exist.", "accountId");
  const subscription = await loadMeteringSubscription(ports.db, accountId);
  const month = topUpMonth(nowFor(subscription, ports.clock.now()));
  const claims = await ports.db.packTopUp.findMany({
    where: { accountId, month },
    orderBy: { seq: "desc" },
  });
  // The failure that stopped it, whatever month it was in (a decline on the 31st still says why on the 1st).
  const lastFailed = account.autoTopUpStoppedAt
    ? await ports.db.packTopUp.findFirst({
        where: { accountId, status: { in: ["declined", "requires_action"] } },
        orderBy: [{ updatedAt: "desc" }, { createdAt: "desc" }],
      })
    : null;
  return {
    settings:
      account.autoTopUpPackId && account.autoTopUpThresholdMinutes && account.autoTopUpMaxPerMonth
        ? {
            packId: account.autoTopUpPackId,
            thresholdMinutes: account.autoTopUpThresholdMinutes,
            maxPerMonth: account.autoTopUpMaxPerMonth,
          }
        : null,
    stopped: account.autoTopUpStoppedAt
      ? { at: account.autoTopUpStoppedAt, message: lastFailed?.message ?? null }
      : null,
    thisMonth: claims.map((c) => ({
      id: c.id,
      status: c.status,
      message: c.message,
      createdAt: c.createdAt,
    })),
    maxPerMonthLimit: MAX_AUTO_TOP_UPS_PER_MONTH,
  };
}

/**
 * Sets (null: turns off) the account's auto top-up; saving clears a stop left by a failed top-up. The pack
 * must be one the customer can buy (offered, in the billing currency): else 400 naming packId. Audited.
 * Checks at once whether a top-up is due (enqueued).
 */
export async function setAutoTopUp(
  ports: Ports,
  actor: Viewer,
  accountId: string,
  input: AutoTopUpInput,
): Promise<AutoTopUpView> {
  // Turning auto top-up on is buying (later, with the saved card); turning it off is not.
  if (input) assertMayBuyPacks(ports, { ...actor, accountId });
  if (input) await purchasable(ports, accountId, input.packId);
  const at = ports.clock.now();
  await ports.db.$transaction(async (tx) => {
    // A deletion committing meanwhile turned auto top-up off: read FOR SHARE, this waits for it and then
    // finds the account deleted (404), so its settings are never written back nor a top-up queued.
    await lockLiveAccount(tx, accountId);
    const before = await tx.account.findUnique({ where: { id: accountId } });
    if (!before) throw new AppError("NOT_FOUND", "This account does not exist.", "accountId");
    await tx.account.update({
      where: { id: accountId },
      data: {
        autoTopUpPackId: input?.packId ?? null,
        autoTopUpThresholdMinutes: input?.thresholdMinutes ?? null,
        autoTopUpMaxPerMonth: input?.maxPerMonth ?? null,
        autoTopUpStoppedAt: null,
      },
    });
    await writeAudit(
      tx,
      actor,
      {
        action: input ? "auto_top_up.set" : "auto_top_up.remove",
        entityType: "account",
        entityId: accountId,
        before: {
          autoTopUp: before.autoTopUpPackId
            ? {
                packId: before.autoTopUpPackId,
                thresholdMinutes: before.autoTopUpThresholdMinutes,
                maxPerMonth: before.autoTopUpMaxPerMonth,
                stoppedAt: before.autoTopUpStoppedAt,
              }
            : null,
        },
        after: { autoTopUp: input },
      },
      at,
    );
    if (input) await enqueuePackTopUp(ports.queue, accountId, tx);
  });
  return await autoTopUpView(ports, accountId);
}

export { enqueuePackTopUp };

export type TopUpOutcome = "not_due" | "claimed_elsewhere" | "succeeded" | "declined" | "requires_action";

/** The `pack-top-up` job: buys one pack if one is due (see the file's comment). Idempotent. */
export async function runPackTopUp(ports: Ports, accountId: string): Promise<TopUpOutcome> {
  const subscription = await loadMeteringSubscription(ports.db, accountId);
  const now = nowFor(subscription, ports.clock.now());
  const month = topUpMonth(now);
  // 1. Claim (or resume an abandoned claim), in a short transaction.
  const claim = await ports.db.$transaction(async (tx) => {
    const account = await tx.account.findUnique({ where: { id: accountId } });
    if (!account?.autoTopUpPackId) return "not_due" as const;
    // No subscription, or one that has ended: a pack could not be used; nothing is bought (nor claimed).
    if (!subscription || endedBy(subscription, now)) return "not_due" as const;
    const claims = await tx.packTopUp.findMany({ where: { accountId, month }, orderBy: { seq: "asc" } });
    const pending = claims.find((c) => c.status === "pending");
    if (pending) {
      return ports.clock.now().getTime() - pending.updatedAt.getTime() >= PENDING_RESUME_MS
        ? pending
        : ("claimed_elsewhere" as const);
    }
    const grants = await tx.packGrant.findMany({
      where: { accountId, remaining: { gt: 0 } },
      select: { remaining: true, expiresAt: true },
    });
    const due = autoTopUpDue({
      thresholdMinutes: account.autoTopUpThresholdMinutes,
      maxPerMonth: account.autoTopUpMaxPerMonth,
      stopped: account.autoTopUpStoppedAt !== null,
      balanceMinutes: packMinutesAvailable(grants, now),
      claimedThisMonth: claims.length,
    });
    if (!due) return "not_due" as const;
    const seq = claims.length + 1;
    const [created] = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO pack_top_up (id, account_id, pack_id, month, seq, status, created_at, updated_at)
      VALUES (gen_random_uuid(), ${accountId}::uuid, ${account.autoTopUpPackId}::uuid, ${month}, ${seq},
        'pending', ${ports.clock.now()}, ${ports.clock.now()})
      ON CONFLICT (account_id, month, seq) DO NOTHING
      RETURNING id::text AS id`;
    if (!created) return "claimed_elsewhere" as const;
    return await tx.packTopUp.findUniqueOrThrow({ where: { id: created.id } });
  });
  if (typeof claim === "string") return claim;
  // 2. Stripe, with no transaction open.
  let outcome: Awaited<ReturnType<Ports["billing"]["chargeSavedCard"]>>;
  let packName = "minute pack";
  try {
    const { pack, customerId, stripePriceId } = await purchasable(ports, accountId, claim.packId);
    packName = pack.name;
    outcome = await ports.billing.chargeSavedCard({
      customerId,
      amountCents: pack.priceCents,
      priceId: stripePriceId,
      currency: pack.currency,
      description: `Minutely auto top-up: ${pack.name}`,
      metadata: { minutely_pack_id: pack.id, minutely_account_id: accountId, minutely_top_up_id: claim.id },
      idempotencyKey: `minutely-pack-top-up:${claim.id}`,
    });
  } catch (error) {
    // The pack is no longer offered (archived, another currency): the top-up cannot be made; say so.
    if (!(error instanceof AppError)) throw error;
    outcome = { status: "declined", paymentIntentId: null, message: error.message };
  }
  // 3. The answer.
  if (outcome.status === "succeeded") {
    // An account deleted since the claim: nothing granted, the payment refunded (grantForPayment); the
    // claim still records the payment Stripe made.
    await grantForPayment(ports, accountId, claim.packId, {
      sourceKey: `payment_intent:${outcome.paymentIntentId}`,
      paymentIntentId: outcome.paymentIntentId,
    });
    await ports.db.packTopUp.update({
      where: { id: claim.id },
      data: { status: "succeeded", paymentIntentId: outcome.paymentIntentId },
    });
    return "succeeded";
  }
  await recordTopUpFailure(ports, claim.id, outcome, packName);
  return outcome.status;
}

/**
 * Records a failed top-up once: the claim (while still pending) gets the answer, auto top-up stops until the
 * settings are saved again, and the owner is emailed (deduplicated per claim). From the charge's answer, or
 * from a payment_intent.payment_failed webhook of a top-up's PaymentIntent, whichever comes first.
 */
async function recordTopUpFailure(
  ports: Ports,
  claimId: string,
  failed: { status: "declined" | "requires_action"; paymentIntentId: string | null; message: string },
  packName: string,
): Promise<void> {
  const claim = await ports.db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ account_id: string }[]>`
      UPDATE pack_top_up SET status = ${failed.status}::"PackTopUpStatus",
        payment_intent_id = COALESCE(${failed.paymentIntentId}, payment_intent_id),
        message = ${failed.message.slice(0, 500)}, updated_at = ${ports.clock.now()}
      WHERE id = ${claimId}::uuid AND status = 'pending'
      RETURNING account_id::text AS account_id`;
    if (!row) return null;
    await tx.account.update({
      where: { id: row.account_id },
      data: { autoTopUpStoppedAt: ports.clock.now() },
    });
    return row;
  });
  if (!claim) return;
  const owner = await ownerOf(ports.db, claim.account_id);
  if (owner) {
    await ports.mailer.send({
      to: owner.email,
      // A card's answer is a decline; no payment at all (the pack archived, no saved card) is not.
      subject:
        failed.status === "requires_action"
          ? "Your Minutely auto top-up needs your confirmation"
          : failed.paymentIntentId
            ? "Your Minutely auto top-up was declined"
            : "Your Minutely auto top-up could not be made",
      text:
        `We could not buy "${packName}" for your account automatically: ${failed.message} ` +
        "Auto top-up is paused until you save its settings again (Usage > Minute packs); " +
        "you can buy a pack there at any time.",
      dedupeKey: `pack-top-up-failed:${claimId}`,
    });
  }
}

/** payment_intent.payment_failed of an auto top-up's PaymentIntent: recorded once (see recordTopUpFailure). */
export async function applyTopUpPaymentFailed(ports: Ports, paymentIntentId: string): Promise<boolean> {
  const intent = await ports.billing.retrievePaymentIntent(paymentIntentId);
  const claimId = intent.metadata.minutely_top_up_id;
  if (!claimId || !/^[0-9a-f-]{36}$/i.test(claimId) || intent.status === "succeeded") return false;
  const claim = await ports.db.packTopUp.findUnique({ where: { id: claimId } });
  if (claim?.status !== "pending") return false;
  const account = await ports.db.account.findUnique({ where: { id: claim.accountId } });
  if (!account?.stripeCustomerId || account.stripeCustomerId !== intent.customerId) return false;
  const pack = await ports.db.minutePack.findUnique({ where: { id: claim.packId } });
  await recordTopUpFailure(
    ports,
    claimId,
    {
      status: intent.status === "requires_action" ? "requires_action" : "declined",
      paymentIntentId,
      message:
        intent.status === "requires_action"
          ? "Your bank asks to confirm this payment."
          : "Your card was declined. Nothing was charged.",
    },
    pack?.name ?? "minute pack",
  );
  return true;
}
