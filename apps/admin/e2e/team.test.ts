// A customer's team in the admin app (issue #24): the customer detail lists the account's members with their
// roles and its pending invitations, and "Resend invitation" mails a new link (rate limited like the
// customer's own resend, audit-logged). The built SPA, the real API and the Stripe emulator.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { ADMIN, horizontalOverflow, signIn } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });

const owner = await stack.createUser({
  email: "nina@team.test",
  password: "customer-password-1",
  name: "Nina Co",
});
const member = await stack.createUser({
  email: "max@team.test",
  password: "customer-password-1",
  name: "Max",
});
await db.accountMember.create({
  data: { accountId: owner.accountId, userId: member.userId, role: "billing" },
});

/** Invites through the customer API, as the owner's browser would. */
async function invite(email: string): Promise<void> {
  const response = await fetch(`${stack.baseUrl}/trpc/team.invite`, {
    method: "POST",
    headers: { cookie: owner.cookie, origin: stack.baseUrl, "content-type": "application/json" },
    body: JSON.stringify({
      json: { email, role: "member", requestKey: `invite-${email.replace(/[^a-z0-9]/gi, "-")}` },
    }),
  });
  expect(response.status, await response.text()).toBe(200);
}

describe("a customer's team", () => {
  it("shows members with roles and pending invitations, and resends an invitation", async () => {
    await invite("ola@team.test");
    const page = await signIn(stack, browser, `/customers/${owner.accountId}`, {
      viewport: { width: 1280, height: 900 },
    });
    const people = page.getByRole("region", { name: "People", exact: true });
    await people.getByText("nina@team.test").waitFor();
    const members = await people.getByRole("list", { name: "Members" }).textContent();
    expect(members).toMatch(/nina@team\.test.*Owner/);
    expect(members).toMatch(/max@team\.test.*Billing/);
    const invitations = people.getByRole("list", { name: "Pending invitations" });
    expect(await invitations.textContent()).toContain("ola@team.test");

    // Right after the invite a resend is refused, and the page says why.
    await page.getByRole("button", { name: "Resend invitation to ola@team.test" }).click();
    await people
      .getByRole("alert")
      .getByText(/sent moments ago/)
      .waitFor();

    // A minute later it goes: a new link (the old one stops working), audit-logged.
    const before = await db.accountInvitation.findFirstOrThrow({ where: { email: "ola@team.test" } });
    await db.accountInvitation.update({
      where: { id: before.id },
      data: { sentAt: new Date(before.sentAt.getTime() - 2 * 60_000) },
    });
    await page.getByRole("button", { name: "Resend invitation to ola@team.test" }).click();
    await people
      .getByRole("status")
      .getByText(/Invitation sent again \(send 2\)/)
      .waitFor();
    const after = await db.accountInvitation.findUniqueOrThrow({ where: { id: before.id } });
    expect(after.tokenHash).not.toBe(before.tokenHash);
    expect(after.sendCount).toBe(2);
    expect(await db.mailMessage.count({ where: { to: "ola@team.test" } })).toBe(2);
    const audit = await db.auditLog.findFirstOrThrow({ where: { action: "invitation.resend" } });
    expect(audit).toMatchObject({ actorEmail: ADMIN.email, entityId: owner.accountId });
    expect(await horizontalOverflow(page)).toBe(0);
    await people.scrollIntoViewIfNeeded();
    await screenshot(page, "admin-customer-team");
  });
});
