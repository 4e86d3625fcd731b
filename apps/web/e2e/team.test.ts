// Team members in the browser (issue #24): the owner invites by email (a bad address is refused naming the
// field), the invitee opens the mailed link, signs up from it, confirms their address and joins; the header
// then switches between their two accounts; a billing member sees the team without managing it; removing a
// member signs them out of the account at once; the owner transfers ownership. Links are read from the
// outbox as from an inbox. The built SPA, the real API and the Stripe emulator.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { PASSWORD, signIn } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const db = stack.database.db;

const owner = await stack.createUser({ email: "olga@owner.test", password: PASSWORD, name: "Olga Owner" });

async function mailedLink(to: string, path: string): Promise<string> {
  const mails = await db.mailMessage.findMany({ where: { to }, orderBy: { createdAt: "desc" } });
  for (const mail of mails) {
    const match = new RegExp(`https?://[^/\\s]+(${path}\\?token=\\S+)`).exec(mail.text);
    if (match?.[1]) return match[1];
  }
  throw new Error(`no ${path} link mailed to ${to}`);
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  return await context.newPage();
}

describe("team members", () => {
  let ownerPage: Page;
  let beaPage: Page;

  it("the owner invites by email; a bad address is refused naming the field", async () => {
    ownerPage = await newPage();
    await signIn(stack, ownerPage, "olga@owner.test");
    await ownerPage.goto(`${stack.baseUrl}/team`);
    await ownerPage.getByRole("heading", { name: "Team" }).waitFor();
    const members = ownerPage.getByTestId("team-members");
    await members.getByText("olga@owner.test").waitFor();
    expect(await members.textContent()).toContain("Owner");

    await ownerPage.getByLabel("Email address").fill("not-an-address");
    await ownerPage.getByRole("button", { name: "Invite", exact: true }).click();
    await ownerPage.getByText("Not an email address").waitFor();
    await screenshot(ownerPage, "web-team-invite-bad-email");

    await ownerPage.getByLabel("Email address").fill("bea@billing.test");
    await ownerPage.getByLabel("Role").selectOption("billing");
    await ownerPage.getByRole("button", { name: "Invite", exact: true }).click();
    await ownerPage.getByText("Invitation sent to bea@billing.test.").waitFor();
    const pending = ownerPage.getByTestId("team-invitations");
    await pending.getByText("bea@billing.test").waitFor();
    // A resend right away is refused (rate limited) and says so.
    await ownerPage.getByRole("button", { name: "Resend the invitation to bea@billing.test" }).click();
    await ownerPage.getByText(/sent moments ago/).waitFor();
    await screenshot(ownerPage, "web-team-invited");
    expect(await db.accountInvitation.count({ where: { email: "bea@billing.test" } })).toBe(1);
  });

  it("the invitee signs up from the link, confirms the address, joins, and switches accounts", async () => {
    beaPage = await newPage();
    const link = await mailedLink("bea@billing.test", "/accept-invitation");
    await beaPage.goto(`${stack.baseUrl}${link}`);
    await beaPage.getByText(/You are invited to/).waitFor();
    expect(await beaPage.locator("main").textContent()).toContain("as billing, at bea@billing.test");
    await screenshot(beaPage, "web-team-accept-signed-out");

    await beaPage.getByRole("link", { name: "Sign up" }).click();
    await beaPage.getByLabel("Name").fill("Bea Billing");
    await beaPage.getByLabel("Email").fill("bea@billing.test");
    await beaPage.getByLabel("Password").fill(PASSWORD);
    await beaPage.getByRole("button", { name: "Create account" }).click();
    await beaPage.getByText(/Confirm your email address first/).waitFor();
    await screenshot(beaPage, "web-team-accept-unverified");

    await beaPage.goto(`${stack.baseUrl}${await mailedLink("bea@billing.test", "/verify-email")}`);
    await beaPage.getByText("Your email address is confirmed").waitFor();
    await beaPage.goto(`${stack.baseUrl}${link}`);
    await beaPage.getByRole("button", { name: /^Join / }).click();
    await beaPage.waitForURL((url) => !url.pathname.startsWith("/accept-invitation"));

    const switcher = beaPage.getByLabel("Account", { exact: true });
    await switcher.waitFor();
    const options = await switcher.locator("option").allTextContents();
    expect(options).toHaveLength(2);
    expect(options.find((o) => o.includes("(billing)"))).toBeTruthy();
    await beaPage.goto(`${stack.baseUrl}/team`);
    await beaPage.getByText(/Your role:/).waitFor();
    expect(await beaPage.locator("main").textContent()).toContain("Your role: Billing");
    // A billing member sees the team but cannot invite.
    expect(await beaPage.getByRole("form", { name: "Invite a team member" }).count()).toBe(0);
    await screenshot(beaPage, "web-team-as-billing");
    // The header offers the pages her role may use: Billing, not API keys.
    const nav = beaPage.getByRole("navigation", { name: "Main" });
    expect(await nav.getByRole("link", { name: "Billing", exact: true }).count()).toBe(1);
    expect(await nav.getByRole("link", { name: "API keys", exact: true }).count()).toBe(0);
    // The switcher fits the one-line header (it takes the address's place).
    expect(await beaPage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);

    // Switching to her own account: the team there is hers alone, as owner.
    const own = options.find((o) => o.includes("(owner)")) ?? "";
    await switcher.selectOption({ label: own });
    await beaPage.waitForURL((url) => url.pathname !== "/team");
    await beaPage.goto(`${stack.baseUrl}/team`);
    await beaPage.getByText("Your role: Owner").waitFor();
    await screenshot(beaPage, "web-team-switched");
    // And back into Olga's account for the next step.
    await beaPage
      .getByLabel("Account", { exact: true })
      .selectOption({ label: options.find((o) => o.includes("(billing)")) ?? "" });
    await beaPage.waitForURL((url) => url.pathname !== "/team");
  });

  it("removing a member signs them out of the account at once", async () => {
    await ownerPage.reload();
    const members = ownerPage.getByTestId("team-members");
    await members.getByText("bea@billing.test").waitFor();
    await ownerPage.getByRole("button", { name: "Remove bea@billing.test" }).click();
    await ownerPage.getByRole("dialog").getByRole("button", { name: "Remove" }).click();
    await ownerPage.getByRole("dialog").waitFor({ state: "detached" });
    await expect.poll(async () => await members.textContent()).not.toContain("bea@billing.test");
    await screenshot(ownerPage, "web-team-removed");

    await beaPage.goto(`${stack.baseUrl}/team`);
    await beaPage.waitForURL(/\/sign-in/);
  });

  it("the owner transfers ownership and becomes an admin", async () => {
    const cal = await stack.createUser({ email: "cal@member.test", password: PASSWORD, name: "Cal Member" });
    await db.accountMember.create({
      data: { accountId: owner.accountId, userId: cal.userId, role: "member" },
    });
    await ownerPage.reload();
    await ownerPage.getByRole("button", { name: "Make cal@member.test the owner" }).click();
    await ownerPage.getByRole("dialog").getByRole("button", { name: "Transfer ownership" }).click();
    await ownerPage.getByText("Your role: Admin").waitFor();
    await screenshot(ownerPage, "web-team-transferred");
    const roles = await db.accountMember.findMany({
      where: { accountId: owner.accountId },
      orderBy: { role: "asc" },
    });
    expect(roles.map((r) => [r.userId, r.role])).toEqual(
      expect.arrayContaining([
        [cal.userId, "owner"],
        [owner.userId, "admin"],
      ]),
    );
  });

  it("a tab still showing the account another tab switched away from: its change is refused, made nowhere", async () => {
    // Dan runs his own account and is an admin of Olga's; Eve is a member of both.
    const dan = await stack.createUser({ email: "dan@tabs.test", password: PASSWORD, name: "Dan Tabs" });
    const eve = await stack.createUser({ email: "eve@tabs.test", password: PASSWORD, name: "Eve Tabs" });
    await db.accountMember.createMany({
      data: [
        { accountId: owner.accountId, userId: dan.userId, role: "admin" },
        { accountId: owner.accountId, userId: eve.userId, role: "member" },
        { accountId: dan.accountId, userId: eve.userId, role: "member" },
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const tab1 = await context.newPage();
    await signIn(stack, tab1, "dan@tabs.test");
    await tab1.goto(`${stack.baseUrl}/team`);
    await tab1.getByText("Your role: Owner").waitFor();
    await tab1.getByLabel("Account", { exact: true }).waitFor();

    // The second tab (same browser, same session) switches to Olga's account.
    const tab2 = await context.newPage();
    await tab2.goto(`${stack.baseUrl}/team`);
    const switcher = tab2.getByLabel("Account", { exact: true });
    await switcher.waitFor();
    const options = await switcher.locator("option").allTextContents();
    await switcher.selectOption({ label: options.find((o) => o.includes("(admin)")) ?? "" });
    await tab2.waitForURL((url) => url.pathname !== "/team");

    // The first tab still shows Dan's own team; removing Eve there must not remove her from Olga's account.
    await tab1.getByRole("button", { name: "Remove eve@tabs.test" }).click();
    await tab1.getByRole("dialog").getByRole("button", { name: "Remove" }).click();
    await tab1
      .getByRole("dialog")
      .getByText(/switched accounts in another tab/)
      .waitFor();
    await screenshot(tab1, "web-team-stale-tab-refused");
    expect(await db.accountMember.count({ where: { userId: eve.userId } })).toBe(3);
    await context.close();
  });
});
