// What the tax tests share (tax-details.test.ts, tax-attack.test.ts): a customer account with its owner, a
// billing address to vary, the refusal a call ends in, and the account's Stripe customer.
import type { Database } from "@minutely/db";
import type { BillingAddress } from "@minutely/domain";
import { AppError } from "../../errors.ts";

let counter = 0;

/** A new account with its owner, as the services take the buyer (`AccountRef`). */
export async function taxAccount(db: Database, name: string) {
  counter += 1;
  const account = await db.account.create({ data: { name: `${name} ${counter}` } });
  const email = `tax-${counter}-${Date.now()}@example.com`;
  await db.user.create({
    data: { email, name, memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  return { accountId: account.id, email, name };
}

/** A French address (Paris), with `over` changed. */
export const address = (over: Partial<BillingAddress>): BillingAddress => ({
  country: "FR",
  line1: "1 rue de Rivoli",
  line2: null,
  city: "Paris",
  state: null,
  postalCode: "75001",
  ...over,
});

/** The AppError `promise` is refused with; anything else (or no refusal) fails the test. */
export async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected the action to fail");
}

/** The account's Stripe customer id ("" before it has one). */
export async function customerOf(db: Database, accountId: string): Promise<string> {
  return (await db.account.findUniqueOrThrow({ where: { id: accountId } })).stripeCustomerId ?? "";
}
