// The admin resends a verification email to an unverified customer (docs/accounts.md) and sees a deleted
// account badged as such. The built admin SPA, the real API and the Stripe emulator.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { ADMIN, signIn } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });

describe("admin: verification and deleted accounts", () => {
  it("resends the verification email once per click, audit-logged, and shows deleted accounts", async () => {
    const user = await stack.createUser({
      email: "nova@verify.test",
      password: "customer-password-1",
      name: "Nova Clinic",
    });
    const gone = await stack.createUser({
      email: "gone@verify.test",
      password: "customer-password-1",
      name: "Gone Clinic",
    });
    // The fixture confirms its users' addresses; this one lost the mail and never confirmed.
    await db.user.update({ where: { id: user.userId }, data: { emailVerified: false } });
    const mailsBefore = await db.mailMessage.count({ where: { to: "nova@verify.test" } });
    const page = await signIn(stack, browser, "/customers");
    const { name } = await db.account.findUniqueOrThrow({ where: { id: user.accountId } });
    await page.getByRole("link", { name }).click();
    await page.getByText("Email not verified").waitFor();
    await page.getByRole("button", { name: "Resend verification email to nova@verify.test" }).dblclick();
    await page.getByText("Sent to nova@verify.test").waitFor();
    await screenshot(page, "admin-customer-resend-verification");
    expect(await db.mailMessage.count({ where: { to: "nova@verify.test" } })).toBe(mailsBefore + 1);
    const audit = await db.auditLog.findMany({ where: { action: "user.resend_verification" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ entityId: user.userId, actorEmail: ADMIN.email });

    // A deleted account (through the customer's own procedure) is badged in the list and on its page.
    const response = await fetch(`${stack.baseUrl}/trpc/accountSettings.delete`, {
      method: "POST",
      headers: { cookie: gone.cookie, origin: stack.baseUrl, "content-type": "application/json" },
      body: JSON.stringify({
        json: {
          confirmation: (await db.account.findUniqueOrThrow({ where: { id: gone.accountId } })).name,
        },
      }),
    });
    expect(response.status).toBe(200);
    await page.goto(`${stack.baseUrl}/admin/customers`);
    const row = page.locator(`tbody > tr[data-account="Deleted account"]`);
    await row.getByText(/^Deleted (?!account)/).waitFor();
    await screenshot(page, "admin-customers-deleted-account");
    await row.getByRole("link", { name: "Deleted account" }).click();
    await page.getByText(/The account was deleted/).waitFor();
    expect(await page.getByText("Email not verified").count()).toBe(0);
    await screenshot(page, "admin-customer-deleted");
  });
});
