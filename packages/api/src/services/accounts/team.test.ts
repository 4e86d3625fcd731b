import { transactionLock } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import type { AccountRole } from "../../permissions.ts";
import { appRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { sessionStillActive } from "../live/index.ts";
import {
  INVITATION_TTL_MS,
  MAX_INVITATION_MAILS_PER_ACCOUNT_PER_DAY,
  MAX_INVITATION_MAILS_PER_ADDRESS_PER_DAY,
  MAX_PENDING_INVITATIONS,
  RESEND_MIN_INTERVAL_MS,
} from "./team.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-12-01T10:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
let keys = 0;
const key = () => `team-test-key-${++keys}`;

/** A user who signed up (their own account, as owner) and a session. */
async function signedUp(email: string, verified = true): Promise<Viewer & { accountId: string }> {
  const account = await db.account.create({ data: { name: `${email}'s company` } });
  const user = await db.user.create({
    data: {
      email,
      name: email,
      emailVerified: verified,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  const session = await db.session.create({
    data: { userId: user.id, token: `token-${email}`, expiresAt: new Date("2099-01-01T00:00:00Z") },
  });
  return {
    userId: user.id,
    email,
    name: email,
    role: "user",
    emailVerified: verified,
    accountId: account.id,
    sessionId: session.id,
  };
}

function as(viewer: Viewer) {
  return createCallerFactory(appRouter)({ ...ports, viewer, requestId: "test" });
}

/** The viewer acting in `accountId` (what the server resolves from the session), role read from the DB. */
function inAccount(viewer: Viewer, accountId: string): Viewer {
  return { ...viewer, accountId };
}

async function tokenMailedTo(email: string): Promise<string> {
  const mail = await db.mailMessage.findFirstOrThrow({
    where: { to: email, subject: { startsWith: "You are invited" } },
    orderBy: { sentAt: "desc" },
  });
  const match = /token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error("no token in the mail");
  return match[1];
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "OK";
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

async function roleIn(accountId: string, userId: string): Promise<AccountRole | null> {
  const row = await db.accountMember.findUnique({ where: { accountId_userId: { accountId, userId } } });
  return (row?.role as AccountRole | undefined) ?? null;
}

describe("team: invitations", () => {
  it("invites by email (hashed token, 7 days), once per address, and the invitee accepts with that address", async () => {
    const owner = await signedUp("owner-1@team.test");
    const first = await as(owner).team.invite({ email: "Ada@Team.test", role: "billing", requestKey: key() });
    const again = await as(owner).team.invite({ email: "ada@team.test", role: "billing", requestKey: key() });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.invitation.id).toBe(first.invitation.id);
    expect(first.invitation.expiresAt.getTime() - clock.now().getTime()).toBe(INVITATION_TTL_MS);
    expect(await db.mailMessage.count({ where: { to: "ada@team.test" } })).toBe(1);

    const token = await tokenMailedTo("ada@team.test");
    const stored = await db.accountInvitation.findUniqueOrThrow({ where: { id: first.invitation.id } });
    expect(stored.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.tokenHash).not.toContain(token);

    // Another address cannot use the link; an unverified address must confirm first.
    const mallory = await signedUp("mallory-1@team.test");
    expect(await codeOf(as(mallory).invitations.accept({ token, requestKey: key() }))).toBe("FORBIDDEN");
    const unverified = await signedUp("ada@team.test", false);
    expect(await codeOf(as(unverified).invitations.accept({ token, requestKey: key() }))).toBe(
      "PRECONDITION_FAILED",
    );
    await db.user.update({ where: { id: unverified.userId }, data: { emailVerified: true } });
    const ada = { ...unverified, emailVerified: true };
    const accepted = await as(ada).invitations.accept({ token, requestKey: key() });
    expect(accepted).toMatchObject({ accountId: owner.accountId, role: "billing" });
    // Single use, idempotent for the same person: accepting again answers the same, adds nothing.
    expect(await as(ada).invitations.accept({ token, requestKey: key() })).toMatchObject({ role: "billing" });
    expect(await db.accountMember.count({ where: { accountId: owner.accountId } })).toBe(2);
    // The session now acts in the joined account.
    const session = await db.session.findUniqueOrThrow({ where: { id: ada.sessionId ?? "" } });
    expect(session.activeAccountId).toBe(owner.accountId);
    expect(await as(ada).invitations.preview({ token })).toMatchObject({ status: "accepted" });
  });

  it("refuses inviting a member, and an address already invited with another role, naming the field", async () => {
    const owner = await signedUp("owner-2@team.test");
    const error = await as(owner)
      .team.invite({ email: "owner-2@team.test", role: "member", requestKey: key() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("CONFLICT");
    await as(owner).team.invite({ email: "bo@team.test", role: "member", requestKey: key() });
    expect(
      await codeOf(as(owner).team.invite({ email: "bo@team.test", role: "admin", requestKey: key() })),
    ).toBe("CONFLICT");
    // Ownership is not something an invitation gives.
    expect(
      await codeOf(
        as(owner).team.invite({ email: "x@team.test", role: "owner" as "admin", requestKey: key() }),
      ),
    ).toBe("BAD_REQUEST");
  });

  it("resend rotates the token (the old link stops working), is rate limited, and revoke ends the link", async () => {
    const owner = await signedUp("owner-3@team.test");
    const { invitation } = await as(owner).team.invite({
      email: "cy@team.test",
      role: "member",
      requestKey: key(),
    });
    const oldToken = await tokenMailedTo("cy@team.test");
    expect(
      await codeOf(as(owner).team.resendInvitation({ invitationId: invitation.id, requestKey: key() })),
    ).toBe("TOO_MANY_REQUESTS");
    clock.advance(RESEND_MIN_INTERVAL_MS);
    const resent = await as(owner).team.resendInvitation({ invitationId: invitation.id, requestKey: key() });
    expect(resent.sendCount).toBe(2);
    const newToken = await tokenMailedTo("cy@team.test");
    expect(newToken).not.toBe(oldToken);
    expect(await codeOf(as(owner).invitations.preview({ token: oldToken }))).toBe("NOT_FOUND");
    expect(await as(owner).invitations.preview({ token: newToken })).toMatchObject({ status: "pending" });

    await as(owner).team.revokeInvitation({ invitationId: invitation.id, requestKey: key() });
    await as(owner).team.revokeInvitation({ invitationId: invitation.id, requestKey: key() });
    const cy = await signedUp("cy@team.test");
    expect(await codeOf(as(cy).invitations.accept({ token: newToken, requestKey: key() }))).toBe("CONFLICT");
    expect(await roleIn(owner.accountId, cy.userId)).toBeNull();
  });

  it("caps the pending invitations of one account", async () => {
    const owner = await signedUp("owner-cap@team.test");
    await db.accountInvitation.createMany({
      data: Array.from({ length: MAX_PENDING_INVITATIONS }, (_, i) => ({
        accountId: owner.accountId,
        email: `cap-${i}@team.test`,
        role: "member" as const,
        tokenHash: `${i}`.padStart(64, "f"),
        expiresAt: new Date("2099-01-01T00:00:00Z"),
        sentAt: clock.now(),
      })),
    });
    const error = await as(owner)
      .team.invite({ email: "one-more@team.test", role: "member", requestKey: key() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("TOO_MANY_REQUESTS");
    // Inviting an address already pending still answers its invitation.
    expect(
      (await as(owner).team.invite({ email: "cap-3@team.test", role: "member", requestKey: key() })).created,
    ).toBe(false);
  });

  it("an expired invitation cannot be accepted; inviting the address again renews it", async () => {
    const owner = await signedUp("owner-4@team.test");
    await as(owner).team.invite({ email: "di@team.test", role: "member", requestKey: key() });
    const token = await tokenMailedTo("di@team.test");
    clock.advance(INVITATION_TTL_MS);
    const di = await signedUp("di@team.test");
    expect(await codeOf(as(di).invitations.accept({ token, requestKey: key() }))).toBe("CONFLICT");
    const renewed = await as(owner).team.invite({ email: "di@team.test", role: "member", requestKey: key() });
    expect(renewed.invitation.expired).toBe(false);
    const fresh = await tokenMailedTo("di@team.test");
    expect(await as(di).invitations.accept({ token: fresh, requestKey: key() })).toMatchObject({
      role: "member",
    });
  });
});

describe("team: roles, removal, transfer, switching", () => {
  async function teamOf(
    owner: Viewer & { accountId: string },
    email: string,
    role: "admin" | "billing" | "member",
  ) {
    const user = await signedUp(email);
    await db.accountMember.create({ data: { accountId: owner.accountId, userId: user.userId, role } });
    return inAccount(user, owner.accountId);
  }

  it("a role's change and a removal take effect at the next request; the removed member's sessions there end", async () => {
    const owner = await signedUp("owner-5@team.test");
    const eve = await teamOf(owner, "eve@team.test", "admin");
    expect(await codeOf(as(eve).apiKeys.list())).toBe("OK");
    await as(owner).team.changeRole({ userId: eve.userId, role: "member", requestKey: key() });
    expect(await codeOf(as(eve).apiKeys.list())).toBe("FORBIDDEN");
    expect(await codeOf(as(eve).dashboard.get())).toBe("OK");

    await db.session.update({
      where: { id: eve.sessionId ?? "" },
      data: { activeAccountId: owner.accountId },
    });
    const otherSession = await db.session.create({
      data: { userId: eve.userId, token: "eve-own-account", expiresAt: new Date("2099-01-01T00:00:00Z") },
    });
    await db.session.update({
      where: { id: otherSession.id },
      data: {
        activeAccountId: (
          await db.accountMember.findFirstOrThrow({ where: { userId: eve.userId, role: "owner" } })
        ).accountId,
      },
    });
    const removed = await as(owner).team.remove({ userId: eve.userId, requestKey: key() });
    expect(removed.sessionsEnded).toBe(1);
    expect(await db.session.findUnique({ where: { id: eve.sessionId ?? "" } })).toBeNull();
    expect(await db.session.findUnique({ where: { id: otherSession.id } })).not.toBeNull();
    expect(await codeOf(as(eve).dashboard.get())).toBe("FORBIDDEN");
  });

  it("the owner cannot be demoted, removed or leave; transfer is owner-only and atomic", async () => {
    const owner = await signedUp("owner-6@team.test");
    const fay = await teamOf(owner, "fay@team.test", "admin");
    const gus = await teamOf(owner, "gus@team.test", "member");
    expect(
      await codeOf(as(fay).team.changeRole({ userId: owner.userId, role: "member", requestKey: key() })),
    ).toBe("CONFLICT");
    expect(await codeOf(as(fay).team.remove({ userId: owner.userId, requestKey: key() }))).toBe("CONFLICT");
    expect(await codeOf(as(owner).team.leave({ requestKey: key() }))).toBe("CONFLICT");
    // Leaving takes no input: the refusal names no field (it is about the caller's role, not a value sent).
    const leaving = await as(owner)
      .team.leave({ requestKey: key() })
      .catch((e: unknown) => e);
    expect((leaving as { cause?: { field?: string } }).cause).toMatchObject({ code: "CONFLICT" });
    expect((leaving as { cause?: { field?: string } }).cause?.field).toBeUndefined();
    // An admin may not transfer ownership (the role table), nor may a member manage the team.
    expect(await codeOf(as(fay).team.transferOwnership({ userId: fay.userId, requestKey: key() }))).toBe(
      "FORBIDDEN",
    );
    expect(
      await codeOf(as(gus).team.invite({ email: "z@team.test", role: "member", requestKey: key() })),
    ).toBe("FORBIDDEN");

    await as(owner).team.transferOwnership({ userId: gus.userId, requestKey: key() });
    expect(await roleIn(owner.accountId, gus.userId)).toBe("owner");
    expect(await roleIn(owner.accountId, owner.userId)).toBe("admin");
    expect(await db.accountMember.count({ where: { accountId: owner.accountId, role: "owner" } })).toBe(1);
    // The database holds the rule too: a second owner is refused.
    await expect(
      db.accountMember.update({
        where: { accountId_userId: { accountId: owner.accountId, userId: fay.userId } },
        data: { role: "owner" },
      }),
    ).rejects.toThrow();
    // The former owner can now leave; a live stream of theirs on the account hears nothing more.
    const stream = sessionStillActive(db, owner.sessionId, owner.accountId);
    expect(await stream()).toBe(true);
    await as(inAccount(owner, owner.accountId)).team.leave({ requestKey: key() });
    expect(await roleIn(owner.accountId, owner.userId)).toBeNull();
    expect(await stream()).toBe(false);
    expect(await sessionStillActive(db, owner.sessionId)()).toBe(true);
  });

  it("lists the user's accounts and switches only into one they belong to", async () => {
    const owner = await signedUp("owner-7@team.test");
    const hal = await signedUp("hal@team.test");
    await db.accountMember.create({
      data: { accountId: owner.accountId, userId: hal.userId, role: "member" },
    });
    const list = await as(hal).memberships.list();
    expect(list.map((m) => [m.accountName, m.role, m.active])).toEqual([
      ["hal@team.test's company", "owner", true],
      ["owner-7@team.test's company", "member", false],
    ]);
    await as(hal).memberships.switch({ accountId: owner.accountId, requestKey: key() });
    expect((await db.session.findUniqueOrThrow({ where: { id: hal.sessionId ?? "" } })).activeAccountId).toBe(
      owner.accountId,
    );
    const stranger = await signedUp("stranger-7@team.test");
    expect(
      await codeOf(as(stranger).memberships.switch({ accountId: owner.accountId, requestKey: key() })),
    ).toBe("NOT_FOUND");
  });

  it("the owner's email (alerts, invoices, trials) is the owner's after a transfer", async () => {
    const owner = await signedUp("owner-8@team.test");
    const ivy = await teamOf(owner, "ivy@team.test", "member");
    expect(await as(owner).accountSettings.get()).toMatchObject({ invoicesTo: "owner-8@team.test" });
    await as(owner).team.transferOwnership({ userId: ivy.userId, requestKey: key() });
    expect(await as(owner).accountSettings.get()).toMatchObject({ invoicesTo: "ivy@team.test" });
  });
});

describe("team: a role read before the team lock is checked again under it", () => {
  async function member(owner: Viewer & { accountId: string }, email: string, role: "admin" | "member") {
    const user = await signedUp(email);
    await db.accountMember.create({ data: { accountId: owner.accountId, userId: user.userId, role } });
    return inAccount(user, owner.accountId);
  }
  /** The viewer as the server resolved it at the start of a request (the role read then). */
  const resolvedAs = (viewer: Viewer, accountRole: AccountRole): Viewer => ({ ...viewer, accountRole });

  it("two admins demoting (or removing) each other at once: one wins, the other's request is refused", async () => {
    const owner = await signedUp("owner-race-1@team.test");
    const ann = await member(owner, "ann-race@team.test", "admin");
    const bob = await member(owner, "bob-race@team.test", "admin");
    // Both requests passed the role check as admins before either ran.
    const results = await Promise.all([
      codeOf(
        as(resolvedAs(ann, "admin")).team.changeRole({
          userId: bob.userId,
          role: "member",
          requestKey: key(),
        }),
      ),
      codeOf(
        as(resolvedAs(bob, "admin")).team.changeRole({
          userId: ann.userId,
          role: "member",
          requestKey: key(),
        }),
      ),
    ]);
    expect(results.sort()).toEqual(["FORBIDDEN", "OK"]);
    const roles = [await roleIn(owner.accountId, ann.userId), await roleIn(owner.accountId, bob.userId)];
    expect(roles.sort()).toEqual(["admin", "member"]);

    const cy = await member(owner, "cy-race@team.test", "admin");
    const dee = await member(owner, "dee-race@team.test", "admin");
    const removals = await Promise.all([
      codeOf(as(resolvedAs(cy, "admin")).team.remove({ userId: dee.userId, requestKey: key() })),
      codeOf(as(resolvedAs(dee, "admin")).team.remove({ userId: cy.userId, requestKey: key() })),
    ]);
    expect(removals.sort()).toEqual(["FORBIDDEN", "OK"]);
    expect(
      [await roleIn(owner.accountId, cy.userId), await roleIn(owner.accountId, dee.userId)].filter(Boolean),
    ).toEqual(["admin"]);
  });

  it("an admin demoted (or removed) while their request waited cannot invite, resend, revoke, change or remove", async () => {
    const owner = await signedUp("owner-race-2@team.test");
    const eli = await member(owner, "eli-race@team.test", "admin");
    const ned = await member(owner, "ned-race@team.test", "member");
    const invited = await as(owner).team.invite({
      email: "x-race@team.test",
      role: "member",
      requestKey: key(),
    });
    await as(owner).team.changeRole({ userId: eli.userId, role: "member", requestKey: key() });
    clock.advance(RESEND_MIN_INTERVAL_MS + 1000);
    const stale = as(resolvedAs(eli, "admin"));
    expect(
      await codeOf(stale.team.invite({ email: "y-race@team.test", role: "admin", requestKey: key() })),
    ).toBe("FORBIDDEN");
    expect(
      await codeOf(stale.team.resendInvitation({ invitationId: invited.invitation.id, requestKey: key() })),
    ).toBe("FORBIDDEN");
    expect(
      await codeOf(stale.team.revokeInvitation({ invitationId: invited.invitation.id, requestKey: key() })),
    ).toBe("FORBIDDEN");
    expect(
      await codeOf(stale.team.changeRole({ userId: ned.userId, role: "admin", requestKey: key() })),
    ).toBe("FORBIDDEN");
    expect(await codeOf(stale.team.remove({ userId: ned.userId, requestKey: key() }))).toBe("FORBIDDEN");
    expect(await roleIn(owner.accountId, ned.userId)).toBe("member");
    expect(
      await db.accountInvitation.count({ where: { accountId: owner.accountId, email: "y-race@team.test" } }),
    ).toBe(0);
    const row = await db.accountInvitation.findUniqueOrThrow({ where: { id: invited.invitation.id } });
    expect(row).toMatchObject({ sendCount: 1, revokedAt: null });

    // Removed altogether: the same.
    await as(owner).team.remove({ userId: eli.userId, requestKey: key() });
    expect(await codeOf(stale.team.remove({ userId: ned.userId, requestKey: key() }))).toBe("FORBIDDEN");
    expect(await roleIn(owner.accountId, ned.userId)).toBe("member");
  });
});

describe("team: invitation mail is bounded whatever the invite/revoke loop", () => {
  it("inviting, revoking and inviting one address again is refused (429 naming email) after a few a day", async () => {
    const owner = await signedUp("owner-loop@team.test");
    const codes: string[] = [];
    for (let i = 0; i < MAX_INVITATION_MAILS_PER_ADDRESS_PER_DAY + 3; i++) {
      const outcome = await as(owner)
        .team.invite({ email: "victim@team.test", role: "member", requestKey: key() })
        .catch((e: unknown) => e);
      if (outcome instanceof TRPCError) {
        codes.push(outcome.code);
        continue;
      }
      codes.push("OK");
      const { invitation } = outcome as { invitation: { id: string } };
      await as(owner).team.revokeInvitation({ invitationId: invitation.id, requestKey: key() });
    }
    expect(codes.filter((c) => c === "OK")).toHaveLength(MAX_INVITATION_MAILS_PER_ADDRESS_PER_DAY);
    expect(codes.slice(MAX_INVITATION_MAILS_PER_ADDRESS_PER_DAY)).toEqual([
      "TOO_MANY_REQUESTS",
      "TOO_MANY_REQUESTS",
      "TOO_MANY_REQUESTS",
    ]);
    expect(await db.mailMessage.count({ where: { to: "victim@team.test" } })).toBe(
      MAX_INVITATION_MAILS_PER_ADDRESS_PER_DAY,
    );
    const error = await as(owner)
      .team.invite({ email: "victim@team.test", role: "member", requestKey: key() })
      .catch((e: unknown) => e);
    expect((error as TRPCError).message).toMatch(/victim@team\.test/);
    // A day later the address may be invited again.
    clock.advance(24 * 60 * 60 * 1000);
    expect(
      (await as(owner).team.invite({ email: "victim@team.test", role: "member", requestKey: key() })).created,
    ).toBe(true);
  });

  it("resends count too: an address mailed its day's share by earlier invitations is not resent to", async () => {
    const owner = await signedUp("owner-resends@team.test");
    const sends = MAX_INVITATION_MAILS_PER_ADDRESS_PER_DAY / 2;
    const inviteAndResend = async () => {
      const { invitation } = await as(owner).team.invite({
        email: "resent@team.test",
        role: "member",
        requestKey: key(),
      });
      for (let i = 1; i < sends; i++) {
        clock.advance(RESEND_MIN_INTERVAL_MS);
        await as(owner).team.resendInvitation({ invitationId: invitation.id, requestKey: key() });
      }
      return invitation.id;
    };
    const first = await inviteAndResend();
    await as(owner).team.revokeInvitation({ invitationId: first, requestKey: key() });
    const second = await inviteAndResend();
    clock.advance(RESEND_MIN_INTERVAL_MS);
    const error = await as(owner)
      .team.resendInvitation({ invitationId: second, requestKey: key() })
      .catch((e: unknown) => e);
    expect((error as TRPCError).code).toBe("TOO_MANY_REQUESTS");
    expect((error as TRPCError).message).toMatch(/resent@team\.test/);
    expect(await db.mailMessage.count({ where: { to: "resent@team.test" } })).toBe(
      MAX_INVITATION_MAILS_PER_ADDRESS_PER_DAY,
    );
  });

  it("one account sends at most so many invitations a day, revoked ones included", async () => {
    const owner = await signedUp("owner-daily@team.test");
    await db.accountInvitation.createMany({
      data: Array.from({ length: MAX_INVITATION_MAILS_PER_ACCOUNT_PER_DAY }, (_, i) => ({
        accountId: owner.accountId,
        email: `daily-${i}@team.test`,
        role: "member" as const,
        tokenHash: `${i}`.padStart(64, "e"),
        expiresAt: new Date(clock.now().getTime() + INVITATION_TTL_MS),
        sentAt: clock.now(),
        revokedAt: clock.now(),
      })),
    });
    expect(
      await codeOf(
        as(owner).team.invite({ email: "daily-new@team.test", role: "member", requestKey: key() }),
      ),
    ).toBe("TOO_MANY_REQUESTS");
    clock.advance(24 * 60 * 60 * 1000);
    expect(
      await codeOf(
        as(owner).team.invite({ email: "daily-new@team.test", role: "member", requestKey: key() }),
      ),
    ).toBe("OK");
  });
});

describe("team: a tab whose page shows an account another tab switched away from", () => {
  it("its changes are refused (409: reload), not made in the account switched to; reads and the switch itself work", async () => {
    const owner = await signedUp("owner-tabs@team.test");
    const other = await signedUp("other-tabs@team.test");
    // The owner also runs the other account, where a colleague of theirs is a member.
    await db.accountMember.create({
      data: { accountId: other.accountId, userId: owner.userId, role: "admin" },
    });
    const pat = await signedUp("pat-tabs@team.test");
    await db.accountMember.create({
      data: { accountId: owner.accountId, userId: pat.userId, role: "member" },
    });
    await db.accountMember.create({
      data: { accountId: other.accountId, userId: pat.userId, role: "admin" },
    });

    // Tab 1 shows the owner's own account; tab 2 switched the session to the other account.
    const tab1 = as({ ...owner, accountId: other.accountId, actingAccountId: owner.accountId });
    expect(
      await codeOf(tab1.team.changeRole({ userId: pat.userId, role: "member", requestKey: key() })),
    ).toBe("CONFLICT");
    expect(await codeOf(tab1.team.remove({ userId: pat.userId, requestKey: key() }))).toBe("CONFLICT");
    expect(await roleIn(other.accountId, pat.userId)).toBe("admin");
    // Reading is not refused (the page reloads what the session now acts in), nor is switching back.
    expect((await tab1.team.list()).accountId).toBe(other.accountId);
    expect(await codeOf(tab1.memberships.switch({ accountId: owner.accountId, requestKey: key() }))).toBe(
      "OK",
    );
    // A tab that names the account it acts in goes ahead.
    const tab2 = as({ ...owner, accountId: other.accountId, actingAccountId: other.accountId });
    expect(
      await codeOf(tab2.team.changeRole({ userId: pat.userId, role: "billing", requestKey: key() })),
    ).toBe("OK");
  });
});

describe("team: accepting with a link resent meanwhile", () => {
  it("an accept that read the old link before a resend rotated it is refused once it gets the team lock", async () => {
    const owner = await signedUp("owner-rotate@team.test");
    const { invitation } = await as(owner).team.invite({
      email: "rotated@team.test",
      role: "admin",
      requestKey: key(),
    });
    const oldToken = await tokenMailedTo("rotated@team.test");
    const invitee = await signedUp("rotated@team.test");
    // A resend holds the team lock and rotates the token while the accept is under way.
    let rotated!: () => void;
    const rotating = new Promise<void>((resolve) => {
      rotated = resolve;
    });
    let locked!: () => void;
    const holdsLock = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const resend = db.$transaction(async (tx) => {
      await tx.$executeRaw(transactionLock("team", owner.accountId));
      locked();
      await rotating;
      await tx.accountInvitation.update({
        where: { id: invitation.id },
        data: { tokenHash: "0".repeat(64), sendCount: { increment: 1 } },
      });
    });
    await holdsLock;
    const accept = codeOf(as(invitee).invitations.accept({ token: oldToken, requestKey: key() }));
    // The accept has read the invitation by the old link and now waits for the lock.
    await new Promise((resolve) => setTimeout(resolve, 300));
    rotated();
    await resend;
    expect(await accept).toBe("NOT_FOUND");
    expect(await roleIn(owner.accountId, invitee.userId)).toBeNull();
  });
});

describe("team: switching into an account while being removed from it", () => {
  it("waits for the removal and is refused, so no session is left choosing the account", async () => {
    const owner = await signedUp("owner-switchrace@team.test");
    const kim = await signedUp("kim-switchrace@team.test");
    await db.accountMember.create({
      data: { accountId: owner.accountId, userId: kim.userId, role: "member" },
    });
    let removed!: () => void;
    const removing = new Promise<void>((resolve) => {
      removed = resolve;
    });
    let locked!: () => void;
    const holdsLock = new Promise<void>((resolve) => {
      locked = resolve;
    });
    // The removal (as removeMember does it) holds the team lock while the switch is under way.
    const removal = db.$transaction(async (tx) => {
      await tx.$executeRaw(transactionLock("team", owner.accountId));
      locked();
      await removing;
      await tx.session.deleteMany({ where: { userId: kim.userId, activeAccountId: owner.accountId } });
      await tx.accountMember.delete({
        where: { accountId_userId: { accountId: owner.accountId, userId: kim.userId } },
      });
    });
    await holdsLock;
    const switched = codeOf(as(kim).memberships.switch({ accountId: owner.accountId, requestKey: key() }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    removed();
    await removal;
    expect(await switched).toBe("NOT_FOUND");
    const session = await db.session.findUnique({ where: { id: kim.sessionId ?? "" } });
    expect(session?.activeAccountId ?? null).not.toBe(owner.accountId);
  });
});
