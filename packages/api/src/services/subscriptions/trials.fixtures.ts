// Test help for the trial-refused mail, which a job sends (`send-trial-refused-email`).
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
