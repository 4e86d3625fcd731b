// The people of an account: members with roles (account_member), invitations by email (account_invitation),
// ownership transfer, and a user's own memberships with the account their session acts in. Every change to
// one account's team runs under the account's `team` lock, so two admins cannot race a transfer against a
// removal. docs/accounts.md states the rules.
import { createHash, randomBytes } from "node:crypto";
import { type Prisma, transactionLock } from "@minutely/db";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { type AccountRole, isAccountRole, procedureAccess, roleRefusal } from "../../permissions.ts";

/** An invitation link works for 7 days from when it was (last) sent. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** A resend (which rotates the token) is refused within a minute of the last send. */
export const RESEND_MIN_INTERVAL_MS = 60 * 1000;
/** At most this many sends (the invite and its resends) per invitation. */
export const MAX_INVITATION_SENDS = 10;
/** At most this many pending invitations per account (a bound on the mail one account can send). */
export const MAX_PENDING_INVITATIONS = 50;
/**
 * At most this many invitation mails (invites and resends; revoked and accepted invitations count) to one
 * address from one account in 24 hours: inviting, revoking and inviting again would otherwise mail an
 * address without end.
 */
export const MAX_INVITATION_MAILS_PER_ADDRESS_PER_DAY = 10;
/** At most this many invitation mails from one account in 24 hours, whoever they went to. */
export const MAX_INVITATION_MAILS_PER_ACCOUNT_PER_DAY = 200;
const DAY_MS = 24 * 60 * 60 * 1000;
/** The roles an invitation or a role change may give: ownership moves only by a transfer. */
export const ASSIGNABLE_ROLES = ["admin", "billing", "member"] as const;
export type AssignableRole = (typeof ASSIGNABLE_ROLES)[number];

export interface TeamMember {
  userId: string;
  email: string;
  name: string;
  role: AccountRole;
  joinedAt: Date;
  you: boolean;
}

export interface PendingInvitation {
  id: string;
  email: string;
  role: AccountRole;
  invitedBy: string | null;
  sentAt: Date;
  sendCount: number;
  expiresAt: Date;
  expired: boolean;
}

export interface TeamView {
  accountId: string;
  yourRole: AccountRole;
  members: TeamMember[];
  invitations: PendingInvitation[];
}

const ROLE_ORDER: Record<AccountRole, number> = { owner: 0, admin: 1, billing: 2, member: 3 };

function roleOf(value: string): AccountRole {
  if (!isAccountRole(value)) throw new Error(`unknown account role ${value}`);
  return value;
}

export function hashInvitationToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: hashInvitationToken(token) };
}

/**
 * The viewer may still make this team change (the role table's roles for `procedure`), read under the
 * account's `team` lock: the role the request was authorized with was read before the lock, and another
 * request (an owner demoting this admin, two admins demoting each other at once) may have changed it since.
 */
async function stillAllowed(
  tx: Prisma.TransactionClient,
  accountId: string,
  userId: string,
  procedure: string,
): Promise<void> {
  const member = await tx.accountMember.findUnique({
    where: { accountId_userId: { accountId, userId } },
    select: { role: true },
  });
  if (!member || !isAccountRole(member.role)) {
    throw new AppError("FORBIDDEN", "You are no longer a member of this account.");
  }
  const access = procedureAccess(procedure);
  if (!Array.isArray(access) || !(access as readonly AccountRole[]).includes(member.role)) {
    throw new AppError("FORBIDDEN", roleRefusal(member.role));
  }
}

/**
 * Refuses (TOO_MANY_REQUESTS naming `field`) one more invitation mail when the account mailed the address, or
 * anyone, too often in the last 24 hours: the sends of its invitations last sent within them (an invitation
 * resent today counts its earlier sends too, erring on the side of fewer mails).
 */
async function withinDailyMailBudget(
  tx: Prisma.TransactionClient,
  accountId: string,
  email: string,
  now: Date,
  field: string,
): Promise<void> {
  const since = new Date(now.getTime() - DAY_MS);
  const toAddress = await tx.accountInvitation.aggregate({
    where: { accountId, email, sentAt: { gt: since } },
    _sum: { sendCount: true },
  });
  const sentToAddress = toAddress._sum.sendCount ?? 0;
  if (sentToAddress >= MAX_INVITATION_MAILS_PER_ADDRESS_PER_DAY) {
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `${email} was sent ${sentToAddress} invitations from this account in the last 24 hours; try again tomorrow.`,
      field,
    );
  }
  const fromAccount = await tx.accountInvitation.aggregate({
    where: { accountId, sentAt: { gt: since } },
    _sum: { sendCount: true },
  });
  const sentByAccount = fromAccount._sum.sendCount ?? 0;
  if (sentByAccount >= MAX_INVITATION_MAILS_PER_ACCOUNT_PER_DAY) {
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `This account sent ${sentByAccount} invitations in the last 24 hours; try again tomorrow.`,
      field,
    );
  }
}

/** The members and pending invitations of an account. */
export async function teamView(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
  viewer: { userId: string },
): Promise<TeamView> {
  return await teamViewOf(ports, accountId, viewer.userId);
}

async function teamViewOf(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
  userId: string | null,
): Promise<TeamView> {
  const [members, invitations] = await Promise.all([
    ports.db.accountMember.findMany({
      where: { accountId },
      select: { role: true, createdAt: true, user: { select: { id: true, email: true, name: true } } },
    }),
    ports.db.accountInvitation.findMany({
      where: { accountId, acceptedAt: null, revokedAt: null },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: {
        id: true,
        email: true,
        role: true,
        sentAt: true,
        sendCount: true,
        expiresAt: true,
        invitedBy: { select: { email: true } },
      },
    }),
  ]);
  const now = ports.clock.now();
  const list = members
    .map((m) => ({
      userId: m.user.id,
      email: m.user.email,
      name: m.user.name,
      role: roleOf(m.role),
      joinedAt: m.createdAt,
      you: m.user.id === userId,
    }))
    .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.joinedAt.getTime() - b.joinedAt.getTime());
  return {
    accountId,
    yourRole: list.find((m) => m.you)?.role ?? "member",
    members: list,
    invitations: invitations.map((i) => ({
      id: i.id,
      email: i.email,
      role: roleOf(i.role),
      invitedBy: i.invitedBy?.email ?? null,
      sentAt: i.sentAt,
      sendCount: i.sendCount,
      expiresAt: i.expiresAt,
      expired: i.expiresAt.getTime() <= now.getTime(),
    })),
  };
}

/** The same, for the admin app (no "you"). */
export async function accountTeam(ports: Pick<Ports, "db" | "clock">, accountId: string): Promise<TeamView> {
  return await teamViewOf(ports, accountId, null);
}

function invitationUrl(ports: Pick<Ports, "settings">, token: string): string {
  return `${ports.settings.appUrl.replace(/\/$/, "")}/accept-invitation?token=${encodeURIComponent(token)}`;
}

async function sendInvitationMail(
  ports: Pick<Ports, "mailer" | "settings">,
  input: { email: string; accountName: string; role: AccountRole; invitedBy: string | null; token: string },
): Promise<void> {
  const url = invitationUrl(ports, input.token);
  ports.settings.onLink?.({ kind: "invitation", to: input.email, url });
  await ports.mailer.send({
    to: input.email,
    subject: `You are invited to ${input.accountName} on Minutely`,
    text: [
      "Hello,",
      "",
      `${input.invitedBy ?? "The account owner"} invites you to join ${input.accountName} on Minutely as ${input.role}.`,
      "Open this link and sign in (or sign up) with this email address to accept:",
      "",
      url,
      "",
      "The link works once, for 7 days. If you did not expect it, ignore this mail.",
    ].join("\n"),
    dedupeKey: `invitation:${hashInvitationToken(input.token)}`,
  });
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Invites `email` into the account with `role`. Inviting an address with a pending invitation answers that
 * invitation (one pending invitation per address; an expired one is renewed with a new link); a member's
 * address is a CONFLICT naming `email`.
 */
export async function inviteMember(
  ports: Pick<Ports, "db" | "clock" | "mailer" | "settings">,
  accountId: string,
  viewer: Pick<Viewer, "userId" | "email">,
  input: { email: string; role: AssignableRole },
): Promise<{ invitation: PendingInvitation; created: boolean }> {
  const email = normalizeEmail(input.email);
  const now = ports.clock.now();
  const { token, hash } = newToken();
  const outcome = await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("team", accountId));
    await stillAllowed(tx, accountId, viewer.userId, "team.invite");
    const account = await tx.account.findUniqueOrThrow({ where: { id: accountId }, select: { name: true } });
    const member = await tx.accountMember.findFirst({
      where: { accountId, user: { email: { equals: email, mode: "insensitive" } } },
      select: { role: true },
    });
    if (member) throw new AppError("CONFLICT", `${email} is already a member of this account.`, "email");
    const pending = await tx.accountInvitation.findFirst({
      where: { accountId, email, acceptedAt: null, revokedAt: null },
    });
    if (pending && pending.role !== input.role) {
      throw new AppError(
        "CONFLICT",
        `${email} is already invited as ${pending.role}; revoke that invitation first to invite with another role.`,
        "role",
      );
    }
    if (pending && pending.expiresAt > now) return { row: pending, created: false, mail: null };
    await withinDailyMailBudget(tx, accountId, email, now, "email");
    if (!pending) {
      const open = await tx.accountInvitation.count({
        where: { accountId, acceptedAt: null, revokedAt: null },
      });
      if (open >= MAX_PENDING_INVITATIONS) {
        throw new AppError(
          "TOO_MANY_REQUESTS",
          `This account has ${open} pending invitations; revoke some before inviting more.`,
          "email",
        );
      }
    }
    const data = {
      tokenHash: hash,
      expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
      sentAt: now,
    };
    const row = pending
      ? await tx.accountInvitation.update({
          where: { id: pending.id },
          data: { ...data, sendCount: { increment: 1 } },
        })
      : await tx.accountInvitation.create({
          data: { ...data, accountId, email, role: input.role, invitedById: viewer.userId },
        });
    return { row, created: !pending, mail: { accountName: account.name } };
  });
  if (outcome.mail) {
    await sendInvitationMail(ports, {
      email,
      accountName: outcome.mail.accountName,
      role: input.role,
      invitedBy: viewer.email,
      token,
    });
  }
  const view = await teamViewOf(ports, accountId, viewer.userId);
  const invitation = view.invitations.find((i) => i.id === outcome.row.id);
  if (!invitation) throw new AppError("CONFLICT", "The invitation changed meanwhile; reload.", "email");
  return { invitation, created: outcome.created };
}

/**
 * Sends a pending invitation again with a new link (the old one stops working) and a new 7-day expiry.
 * Refused (TOO_MANY_REQUESTS) within a minute of the last send and after MAX_INVITATION_SENDS sends.
 */
export async function resendInvitation(
  ports: Pick<Ports, "db" | "clock" | "mailer" | "settings">,
  accountId: string,
  invitationId: string,
  /** The member resending (their role is checked again under the lock), or null: Minutely's admin app. */
  by: { userId: string; email: string } | null,
): Promise<{ invitationId: string; expiresAt: Date; sendCount: number }> {
  const now = ports.clock.now();
  const { token, hash } = newToken();
  const row = await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("team", accountId));
    if (by) await stillAllowed(tx, accountId, by.userId, "team.resendInvitation");
    const pending = await tx.accountInvitation.findFirst({
      where: { id: invitationId, accountId },
      include: { account: { select: { name: true } } },
    });
    if (!pending) throw new AppError("NOT_FOUND", "No such invitation.", "invitationId");
    if (pending.acceptedAt) throw new AppError("CONFLICT", "This invitation was accepted.", "invitationId");
    if (pending.revokedAt) throw new AppError("CONFLICT", "This invitation was revoked.", "invitationId");
    if (pending.sendCount >= MAX_INVITATION_SENDS) {
      throw new AppError(
        "TOO_MANY_REQUESTS",
        `This invitation was sent ${pending.sendCount} times; revoke it and invite again.`,
        "invitationId",
      );
    }
    await withinDailyMailBudget(tx, accountId, pending.email, now, "invitationId");
    const wait = pending.sentAt.getTime() + RESEND_MIN_INTERVAL_MS - now.getTime();
    if (wait > 0) {
      throw new AppError(
        "TOO_MANY_REQUESTS",
        `The invitation was sent moments ago; try again in ${Math.ceil(wait / 1000)} s.`,
        "invitationId",
      );
    }
    const updated = await tx.accountInvitation.update({
      where: { id: pending.id },
      data: {
        tokenHash: hash,
        sentAt: now,
        expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
        sendCount: { increment: 1 },
      },
    });
    return { ...updated, accountName: pending.account.name };
  });
  await sendInvitationMail(ports, {
    email: row.email,
    accountName: row.accountName,
    role: roleOf(row.role),
    invitedBy: by?.email ?? null,
    token,
  });
  return { invitationId: row.id, expiresAt: row.expiresAt, sendCount: row.sendCount };
}

/** Revokes a pending invitation (its link stops working). Revoking it again is the same answer. */
export async function revokeInvitation(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
  invitationId: string,
  viewer: { userId: string },
): Promise<{ revoked: true }> {
  await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("team", accountId));
    await stillAllowed(tx, accountId, viewer.userId, "team.revokeInvitation");
    const row = await tx.accountInvitation.findFirst({ where: { id: invitationId, accountId } });
    if (!row) throw new AppError("NOT_FOUND", "No such invitation.", "invitationId");
    if (row.acceptedAt)
      throw new AppError("CONFLICT", "This invitation was already accepted.", "invitationId");
    if (!row.revokedAt) {
      await tx.accountInvitation.update({ where: { id: row.id }, data: { revokedAt: ports.clock.now() } });
    }
  });
  return { revoked: true };
}

/** What the accept page shows before the visitor signs in: whose invitation, for which address. */
export interface InvitationPreview {
  accountName: string;
  email: string;
  role: AccountRole;
  expiresAt: Date;
  status: "pending" | "expired" | "accepted" | "revoked";
}

async function invitationByToken(db: Ports["db"], token: string) {
  return await db.accountInvitation.findUnique({
    where: { tokenHash: hashInvitationToken(token) },
    include: { account: { select: { name: true } } },
  });
}

export async function invitationPreview(
  ports: Pick<Ports, "db" | "clock">,
  token: string,
): Promise<InvitationPreview> {
  const row = await invitationByToken(ports.db, token);
  if (!row)
    throw new AppError("NOT_FOUND", "This invitation link is not valid (it may have been resent).", "token");
  const status = row.acceptedAt
    ? "accepted"
    : row.revokedAt
      ? "revoked"
      : row.expiresAt <= ports.clock.now()
        ? "expired"
        : "pending";
  return {
    accountName: row.account.name,
    email: row.email,
    role: roleOf(row.role),
    expiresAt: row.expiresAt,
    status,
  };
}

/**
 * Accepts an invitation: the signed-in user must be the invited address, verified. Single use: a second
 * accept by the same user answers the same; the session switches to the joined account.
 */
export async function acceptInvitation(
  ports: Pick<Ports, "db" | "clock">,
  viewer: Pick<Viewer, "userId" | "email" | "emailVerified" | "sessionId">,
  token: string,
): Promise<{ accountId: string; accountName: string; role: AccountRole }> {
  const now = ports.clock.now();
  const found = await invitationByToken(ports.db, token);
  if (!found)
    throw new AppError("NOT_FOUND", "This invitation link is not valid (it may have been resent).", "token");
  if (found.email !== normalizeEmail(viewer.email)) {
    throw new AppError(
      "FORBIDDEN",
      `This invitation is for ${found.email}; sign in with that address to accept it.`,
      "token",
    );
  }
  if (viewer.emailVerified !== true) {
    throw new AppError(
      "PRECONDITION_FAILED",
      "Confirm your email address first (the link we mailed you), then accept the invitation.",
      "token",
    );
  }
  const accepted = await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("team", found.accountId));
    // Gone meanwhile (the account was deleted, its invitations with it), or a resend rotated the link between
    // the look-up and the lock: the old link stopped working.
    const row = await tx.accountInvitation.findUnique({ where: { id: found.id } });
    if (!row || row.tokenHash !== found.tokenHash) {
      throw new AppError(
        "NOT_FOUND",
        "This invitation link is not valid (it may have been resent).",
        "token",
      );
    }
    if (row.acceptedAt) {
      if (row.acceptedById === viewer.userId) {
        const member = await tx.accountMember.findUnique({
          where: { accountId_userId: { accountId: row.accountId, userId: viewer.userId } },
        });
        if (member) return roleOf(member.role);
      }
      throw new AppError("CONFLICT", "This invitation was already used.", "token");
    }
    if (row.revokedAt) throw new AppError("CONFLICT", "This invitation was revoked.", "token");
    if (row.expiresAt <= now) {
      throw new AppError("CONFLICT", "This invitation has expired; ask for a new one.", "token");
    }
    await tx.accountInvitation.update({
      where: { id: row.id },
      data: { acceptedAt: now, acceptedById: viewer.userId },
    });
    const existing = await tx.accountMember.findUnique({
      where: { accountId_userId: { accountId: row.accountId, userId: viewer.userId } },
    });
    if (existing) return roleOf(existing.role);
    await tx.accountMember.create({
      data: { accountId: row.accountId, userId: viewer.userId, role: row.role },
    });
    return roleOf(row.role);
  });
  if (viewer.sessionId) {
    // As a switch does (under the team lock: a removal meanwhile refuses it, the member stays where they were).
    await switchAccount(ports, viewer, found.accountId).catch((error: unknown) => {
      if (!(error instanceof AppError)) throw error;
    });
  }
  return { accountId: found.accountId, accountName: found.account.name, role: accepted };
}

/**
 * Ends the user's sessions acting in `accountId`: those that chose it, and those with no choice whose
 * default (the oldest membership) it was. Inside the transaction that removes the membership.
 */
export async function endSessionsIn(
  tx: Prisma.TransactionClient,
  accountId: string,
  userId: string,
): Promise<number> {
  const oldest = await tx.accountMember.findFirst({
    where: { userId },
    orderBy: [{ createdAt: "asc" }, { accountId: "asc" }],
    select: { accountId: true },
  });
  const { count } = await tx.session.deleteMany({
    where: {
      userId,
      OR: [
        { activeAccountId: accountId },
        ...(oldest?.accountId === accountId ? [{ activeAccountId: null }] : []),
      ],
    },
  });
  return count;
}

async function memberOrThrow(tx: Prisma.TransactionClient, accountId: string, userId: string) {
  const member = await tx.accountMember.findUnique({ where: { accountId_userId: { accountId, userId } } });
  if (!member) throw new AppError("NOT_FOUND", "No such member of this account.", "userId");
  return { ...member, role: roleOf(member.role) };
}

/** Gives a member another role (not owner: that is a transfer). The member's next request sees it. */
export async function changeMemberRole(
  ports: Pick<Ports, "db">,
  accountId: string,
  viewer: { userId: string },
  input: { userId: string; role: AssignableRole },
): Promise<{ userId: string; role: AccountRole }> {
  return await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("team", accountId));
    await stillAllowed(tx, accountId, viewer.userId, "team.changeRole");
    const member = await memberOrThrow(tx, accountId, input.userId);
    if (member.role === "owner") {
      throw new AppError(
        "CONFLICT",
        "The owner's role cannot be changed; the owner transfers ownership to someone else instead.",
        "userId",
      );
    }
    if (input.userId === viewer.userId) {
      throw new AppError("CONFLICT", "You cannot change your own role.", "userId");
    }
    await tx.accountMember.update({
      where: { accountId_userId: { accountId, userId: input.userId } },
      data: { role: input.role },
    });
    return { userId: input.userId, role: input.role };
  });
}

/** Removes a member (not the owner) and ends their sessions in this account at once. */
export async function removeMember(
  ports: Pick<Ports, "db">,
  accountId: string,
  viewer: { userId: string },
  userId: string,
): Promise<{ removed: true; sessionsEnded: number }> {
  return await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("team", accountId));
    await stillAllowed(tx, accountId, viewer.userId, "team.remove");
    const member = await memberOrThrow(tx, accountId, userId);
    if (member.role === "owner") {
      throw new AppError("CONFLICT", "The owner cannot be removed; transfer ownership first.", "userId");
    }
    if (userId === viewer.userId) {
      throw new AppError("CONFLICT", "To remove yourself, leave the account instead.", "userId");
    }
    const sessionsEnded = await endSessionsIn(tx, accountId, userId);
    await tx.accountMember.delete({ where: { accountId_userId: { accountId, userId } } });
    return { removed: true as const, sessionsEnded };
  });
}

/** The signed-in member leaves the account (the owner cannot: transfer first). */
export async function leaveAccount(
  ports: Pick<Ports, "db">,
  accountId: string,
  viewer: { userId: string },
): Promise<{ left: true }> {
  await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("team", accountId));
    const member = await memberOrThrow(tx, accountId, viewer.userId);
    if (member.role === "owner") {
      throw new AppError("CONFLICT", "The owner cannot leave; transfer ownership to another member first.");
    }
    await tx.accountMember.delete({ where: { accountId_userId: { accountId, userId: viewer.userId } } });
    // Leaving is the user's own choice: their sessions stay and act in their other accounts.
    await tx.session.updateMany({
      where: { userId: viewer.userId, activeAccountId: accountId },
      data: { activeAccountId: null },
    });
  });
  return { left: true };
}

/** The owner makes another member the owner and becomes an admin, in one transaction. */
export async function transferOwnership(
  ports: Pick<Ports, "db">,
  accountId: string,
  viewer: { userId: string },
  toUserId: string,
): Promise<{ ownerId: string }> {
  return await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("team", accountId));
    const me = await memberOrThrow(tx, accountId, viewer.userId);
    if (me.role !== "owner") throw new AppError("FORBIDDEN", "Only the owner can transfer ownership.");
    if (toUserId === viewer.userId) throw new AppError("CONFLICT", "You are already the owner.", "userId");
    await memberOrThrow(tx, accountId, toUserId);
    // The old owner steps down first: one owner per account is a unique index.
    await tx.accountMember.update({
      where: { accountId_userId: { accountId, userId: viewer.userId } },
      data: { role: "admin" },
    });
    await tx.accountMember.update({
      where: { accountId_userId: { accountId, userId: toUserId } },
      data: { role: "owner" },
    });
    return { ownerId: toUserId };
  });
}

export interface MembershipView {
  accountId: string;
  accountName: string;
  role: AccountRole;
  active: boolean;
}

/** The accounts the user belongs to (the switcher), the session's active one marked. */
export async function myMemberships(
  ports: Pick<Ports, "db">,
  viewer: Pick<Viewer, "userId" | "accountId">,
): Promise<MembershipView[]> {
  const rows = await ports.db.accountMember.findMany({
    where: { userId: viewer.userId },
    orderBy: [{ createdAt: "asc" }, { accountId: "asc" }],
    select: { accountId: true, role: true, account: { select: { name: true } } },
  });
  return rows.map((r) => ({
    accountId: r.accountId,
    accountName: r.account.name,
    role: roleOf(r.role),
    active: r.accountId === viewer.accountId,
  }));
}

/** Makes `accountId` the account this session acts in; the user must be a member of it. */
export async function switchAccount(
  ports: Pick<Ports, "db">,
  viewer: Pick<Viewer, "userId" | "sessionId">,
  accountId: string,
): Promise<{ accountId: string }> {
  const sessionId = viewer.sessionId;
  if (!sessionId) throw new AppError("BAD_REQUEST", "Switching needs a signed-in session.", "accountId");
  // Under the account's team lock: a removal under way ends the sessions choosing the account, so a switch
  // into it waits for the removal (and is refused) rather than leaving a session that chose it behind.
  await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("team", accountId));
    const member = await tx.accountMember.findUnique({
      where: { accountId_userId: { accountId, userId: viewer.userId } },
    });
    if (!member) throw new AppError("NOT_FOUND", "You are not a member of that account.", "accountId");
    const { count } = await tx.session.updateMany({
      where: { id: sessionId, userId: viewer.userId },
      data: { activeAccountId: accountId },
    });
    if (count === 0) throw new AppError("UNAUTHORIZED", "Your session has ended; sign in again.");
  });
  return { accountId };
}

/** Whether `value` is a role an invitation or a role change may give. */
export function isAssignableRole(value: unknown): value is AssignableRole {
  return typeof value === "string" && (ASSIGNABLE_ROLES as readonly string[]).includes(value);
}
