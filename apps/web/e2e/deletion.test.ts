// Deleting the account from the Account page's danger zone (docs/accounts.md): a wrong company name is
// refused under the field, the right one deletes it (the subscription ends at the period's end, the person
// is signed out and pseudonymised), and the metering API then refuses the account's calls. The built SPA,
// the real API and the Stripe emulator.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { PASSWORD, postUsage, signIn, subscribeWithCard } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const db = stack.database.db;

describe("deleting the account", () => {
  it("refuses a wrong confirmation, deletes with the company name, and signs the person out", async () => {
    const email = "dana@delete.test";
    const user = await stack.createUser({ email, password: PASSWORD, name: "Dana Delete" });
    await subscribeWithCard(stack, user.cookie, "Pro");
    const { name } = await db.account.findUniqueOrThrow({ where: { id: user.accountId } });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(stack, page, email);
    await page.goto(`${stack.baseUrl}/account`);
    await page.getByRole("heading", { name: "Danger zone" }).waitFor();
    await page.getByRole("button", { name: "Delete account…" }).click();
    await page.getByLabel(/Type the company name/).fill("Not my company");
    await page.getByRole("button", { name: "Delete account permanently" }).click();
    await page.getByText("The confirmation does not match").waitFor();
    await screenshot(page, "web-account-delete-wrong-confirmation");
    expect((await db.account.findUniqueOrThrow({ where: { id: user.accountId } })).deletedAt).toBeNull();

    await page.getByLabel(/Type the company name/).fill(name);
    await page.getByRole("button", { name: "Delete account permanently" }).click();
    await page.getByRole("heading", { name: "Account deleted" }).waitFor();
    expect(await page.getByTestId("account-deleted").textContent()).toMatch(/not renewed; it ends on/);
    await screenshot(page, "web-account-deleted");

    const account = await db.account.findUniqueOrThrow({ where: { id: user.accountId } });
    expect(account.deletedAt).not.toBeNull();
    expect(account.name).toBe("Deleted account");
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: user.accountId } });
    const remote = (await (
      await fetch(`${stack.stripeApiBase}/v1/subscriptions/${sub.stripeSubscriptionId}`, {
        headers: { authorization: "Bearer sk_test_e2e" },
      })
    ).json()) as { cancel_at_period_end: boolean };
    expect(remote.cancel_at_period_end).toBe(true);
    expect(await db.user.count({ where: { email } })).toBe(0);
    expect(await db.session.count({ where: { userId: user.userId } })).toBe(0);

    // Signed out: the app sends the browser to sign in, and the old password no longer works.
    await page.getByRole("button", { name: "Done" }).click();
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").first().waitFor();
    expect(page.url()).toMatch(/\/sign-in/);
    await screenshot(page, "web-account-deleted-sign-in-refused");

    // The calling platform's reports for the account are refused.
    const { status, json } = await postUsage(
      stack,
      JSON.stringify({
        events: [
          {
            call_id: "after-deletion-1",
            account_id: user.accountId,
            direction: "outbound",
            started_at: new Date().toISOString(),
            duration_seconds: 60,
          },
        ],
      }),
    );
    expect(status).toBe(200);
    expect(json).toMatchObject({ rejected: 1, results: [{ status: "rejected", reason: "account_deleted" }] });
  });

  it("shows deletion to the owner only; a member of another account keeps it and signs in again", async () => {
    const owner = await stack.createUser({
      email: "olga@delete.test",
      password: PASSWORD,
      name: "Olga Owner",
    });
    const max = await stack.createUser({ email: "max@delete.test", password: PASSWORD, name: "Max Member" });
    // Max is an admin of Olga's account too, joined before his own (so it is his sessions' default).
    await db.accountMember.create({
      data: { accountId: owner.accountId, userId: max.userId, role: "admin", createdAt: new Date(0) },
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(stack, page, "max@delete.test");
    await page.goto(`${stack.baseUrl}/account`);
    await page.getByText("Only the account's owner can delete it.").waitFor();
    expect(await page.getByRole("button", { name: "Delete account…" }).count()).toBe(0);
    await screenshot(page, "web-account-delete-not-owner");

    const { name } = await db.account.findUniqueOrThrow({ where: { id: owner.accountId } });
    const response = await fetch(`${stack.baseUrl}/trpc/accountSettings.delete`, {
      method: "POST",
      headers: { cookie: owner.cookie, origin: stack.baseUrl, "content-type": "application/json" },
      body: JSON.stringify({ json: { confirmation: name } }),
    });
    expect(response.status).toBe(200);

    // Max's session acted in the deleted account: it ended. Max signs in again, into his own account.
    expect(await db.user.findUniqueOrThrow({ where: { id: max.userId } })).toMatchObject({
      email: "max@delete.test",
      name: "Max Member",
    });
    await page.reload();
    await page.waitForURL(/\/sign-in/);
    await signIn(stack, page, "max@delete.test");
    await page.goto(`${stack.baseUrl}/account`);
    await page.getByRole("button", { name: "Delete account…" }).waitFor();
    const own = await db.account.findUniqueOrThrow({ where: { id: max.accountId } });
    expect(own.deletedAt).toBeNull();
    expect(
      await db.accountMember.findMany({ where: { userId: max.userId }, select: { accountId: true } }),
    ).toEqual([{ accountId: max.accountId }]);
    await screenshot(page, "web-account-deleted-member-keeps-own");
    // Olga was only in the deleted account: pseudonymised.
    expect(await db.user.count({ where: { email: "olga@delete.test" } })).toBe(0);
  });
});
