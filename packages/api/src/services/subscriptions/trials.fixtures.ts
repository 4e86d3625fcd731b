// Test help for the trial tests: accounts with their owner, paying an emulator Checkout page, and the
// trial-refused mail, which a job sends (`send-trial-refused-email`).
import type { Database } from "@minutely/db";
import type { Ports } from "../../context.ts";
import { TASKS } from "../../jobs/tasks.ts";
import { notifyTrialRefusedForCard } from "./trials.ts";

/**
 * Runs the queued `send-trial-refused-email` jobs as the worker would (the payload parsed by the task's
 * schema, each job once), removing them from the queue. Returns how many ran.
 */
export async function runTrialRefusedMailJobs(ports: Ports): Promise<number> {
  const jobs = await ports.db.$queryRaw<{ payload: unknown }[]>`
    DELETE FROM graphile_worker._private_jobs j USING graphile_worker._private_tasks t
    WHERE t.id = j.task_id AND t.identifier = 'send-trial-refused-email'
    RETURNING j.payload`;
  for (const job of jobs) {
    const { stripeSubscriptionId } = TASKS["send-trial-refused-email"].payload.parse(job.payload) as {
      stripeSubscriptionId: string;
    };
    await notifyTrialRefusedForCard(ports, stripeSubscriptionId);
  }
  return jobs.length;
}

const accountsMade = new Map<string, number>();

/**
 * A new account with its owner (`<label> <n>`, `<label lower-cased, no spaces><n>@example.com`, n counting per
 * label), as the subscription services take it.
 */
export async function newTrialAccount(db: Database, label: string) {
  const n = (accountsMade.get(label) ?? 0) + 1;
  accountsMade.set(label, n);
  const name = `${label} ${n}`;
  const email = `${label.toLowerCase().replace(/\s+/g, "")}${n}@example.com`;
  const account = await db.account.create({ data: { name } });
  const user = await db.user.create({
    data: { email, name, memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  return { accountId: account.id, userId: user.id, email, name };
}

/**
 * Pays an emulator Checkout page with a test card (and the address Stripe Tax asks for); the page's HTTP
 * status (a page paid or expired already answers 4xx: tests of double clicks pay one twice).
 */
export async function payCheckout(url: string, card: string): Promise<number> {
  const res = await fetch(`${url}/pay`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `card=${card}&address_country=US&address_state=OR&address_postal_code=97201`,
    redirect: "manual",
  });
  return res.status;
}
