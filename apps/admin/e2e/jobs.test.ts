// Failed background jobs in Chromium against the real API and its worker: jobs of several tasks left failed
// for good (as the queue leaves them after their last attempt), one waiting out an outage; the admin sees
// each with its error, attempts and payload, filters by task, and replays one, which the worker then runs.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, horizontalOverflow, signIn, waitFor } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });

async function job(task: string, payload: Record<string, unknown>, attempts: number, lastError: string) {
  const [row] = await db.$queryRaw<{ id: string }[]>`
    SELECT (graphile_worker.add_job(${task}::text, ${JSON.stringify(payload)}::json,
      run_at => now() + interval '1 hour')).id::text AS id`;
  const id = row?.id ?? "";
  await db.$executeRaw`
    UPDATE graphile_worker._private_jobs SET attempts = ${attempts}, last_error = ${lastError}
    WHERE id = ${id}::bigint`;
  return id;
}

const ALERT_ERROR = "SMTP refused the message: 550 mailbox unavailable";
const OVERAGE_ERROR = "account 5b0c5e0e-8a4f-4a3e-9a43-6a8f3c1f2d10: a plan change is in progress";
const alertJob = await job(
  "send-usage-alert-email",
  { alertId: "3f0e6c1a-2b7d-4c59-9e8f-1a2b3c4d5e6f" },
  25,
  ALERT_ERROR,
);
const overageJob = await job(
  "report-overage",
  { accountId: "5b0c5e0e-8a4f-4a3e-9a43-6a8f3c1f2d10", periodStart: "2026-11-01T00:00:00.000Z" },
  25,
  OVERAGE_ERROR,
);
await job(
  "bill-overage",
  { accountId: "5b0c5e0e-8a4f-4a3e-9a43-6a8f3c1f2d10" },
  0,
  "[outage 2] Stripe could not be reached; retried without counting an attempt: connect ECONNREFUSED",
);

function jobRow(page: Page, id: string) {
  return page.locator(`tbody > tr[data-job="${id}"]`);
}

describe("admin failed jobs", () => {
  it("lists every task's failed jobs with error, attempts and payload; filters by task", async () => {
    const page = await signIn(stack, browser, "/jobs");
    await page.getByRole("heading", { name: "Failed jobs", level: 1 }).waitFor();
    await jobRow(page, alertJob).waitFor();
    expect(await page.locator("tbody > tr[data-job]").count()).toBe(2);
    const overage = await jobRow(page, overageJob).textContent();
    expect(overage).toContain("report-overage");
    expect(overage).toContain("25 of 25");
    expect(overage).toContain(OVERAGE_ERROR);
    expect(overage).toContain(
      "accountId=5b0c5e0e-8a4f-4a3e-9a43-6a8f3c1f2d10, periodStart=2026-11-01T00:00:00.000Z",
    );
    expect(await jobRow(page, alertJob).textContent()).toContain(ALERT_ERROR);
    // The job waiting for Stripe is not failed: it is counted apart, not listed.
    expect(await page.getByTestId("job-counts").textContent()).toBe(
      "2 failed · 0 retrying after their own error · 1 waiting for the database or Stripe (not counted as attempts)",
    );
    await screenshot(page, "admin-failed-jobs");

    await page.getByLabel("Task").selectOption("send-usage-alert-email");
    await page.waitForFunction(() => document.querySelectorAll("tbody > tr[data-job]").length === 1);
    expect(await jobRow(page, alertJob).count()).toBe(1);
    expect(new URL(page.url()).searchParams.get("task")).toBe("send-usage-alert-email");
    await page.getByLabel("Task").selectOption("bill-overage");
    await page.getByText("No failed bill-overage jobs").waitFor();
  });

  it("replays a failed job: audit-logged, the worker runs it, and a second replay changes nothing", async () => {
    const page = await signIn(stack, browser, "/jobs");
    await jobRow(page, overageJob).waitFor();
    await jobRow(page, overageJob)
      .getByRole("button", { name: `Replay job ${overageJob}` })
      .click();
    const dialog = page.getByRole("dialog", { name: "Replay this job?" });
    await dialog.getByText("recorded in the audit log under your name").waitFor();
    expect(await dialog.textContent()).toContain("report-overage again with a fresh count of attempts");
    await screenshot(page, "admin-failed-job-replay-dialog");
    await dialog.getByRole("button", { name: "Replay job" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByText(`Replayed job ${overageJob}: it is queued and runs in a moment.`).waitFor();
    await jobRow(page, overageJob).waitFor({ state: "detached" });
    expect(await page.locator("tbody > tr[data-job]").count()).toBe(1);
    await screenshot(page, "admin-failed-job-replayed");

    // The worker ran it (nothing to bill for this account) and it left the queue.
    await waitFor(stack, "the replayed job to run", async () => {
      const [row] = await db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE id = ${overageJob}::bigint`;
      return row?.n === 0;
    });
    const audit = await db.auditLog.findMany({ where: { entityType: "job", entityId: overageJob } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorEmail: ADMIN.email, action: "job.replay" });
    expect(audit[0]?.before).toMatchObject({
      task: "report-overage",
      attempts: 25,
      lastError: OVERAGE_ERROR,
    });
  });

  it("fits a phone", async () => {
    const phone = await signIn(stack, browser, "/jobs", { viewport: { width: 390, height: 844 } });
    await jobRow(phone, alertJob).waitFor();
    expect(await horizontalOverflow(phone)).toBe(0);
    await screenshot(phone, "admin-failed-jobs-phone");
  });
});
