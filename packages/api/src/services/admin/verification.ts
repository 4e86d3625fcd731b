// An admin resends a customer's email verification link (a customer who lost or never got the mail): the
// same link sign-up mails (better-auth's token, signed with the server's secret, valid for a day), sent to
// the user's address, audit-logged, at most RESENDS_PER_HOUR a user an hour. A double click is one resend
// (the procedure's request key); two admins at once are counted one after the other (a lock per user).
import { randomUUID } from "node:crypto";
import { transactionLock } from "@minutely/db";
import { createEmailVerificationToken } from "better-auth/api";
import { VERIFY_EMAIL_TOKEN_SECONDS, verifyEmailMail } from "../../auth.ts";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { writeAudit } from "../audit.ts";

/** How many verification mails admins may resend to one user in an hour. */
export const RESENDS_PER_HOUR = 3;
export const RESEND_VERIFICATION_ACTION = "user.resend_verification";

export interface VerificationResent {
  userId: string;
  sentTo: string;
  sentAt: Date;
}

export async function resendVerificationEmail(
  ports: Ports,
  actor: Viewer,
  input: { accountId: string; userId: string },
): Promise<VerificationResent> {
  const account = await ports.db.account.findUnique({
    where: { id: input.accountId },
    select: { deletedAt: true },
  });
  if (!account) throw new AppError("NOT_FOUND", "No such customer.", "accountId");
  if (account.deletedAt) {
    throw new AppError("CONFLICT", "This account was deleted: its users are mailed nothing.", "accountId");
  }
  // A member of this customer (any role): the admin resends from the customer's page.
  const member = await ports.db.accountMember.findUnique({
    where: { accountId_userId: { accountId: input.accountId, userId: input.userId } },
    select: { user: { select: { id: true, email: true, name: true, emailVerified: true } } },
  });
  if (!member) throw new AppError("NOT_FOUND", "No such user of this customer.", "userId");
  const user = member.user;
  if (user.emailVerified) {
    throw new AppError("CONFLICT", `${user.email} is already verified.`, "userId");
  }
  const now = ports.clock.now();
  return await ports.db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("mail", `resend-verification:${user.id}`));
    const recent = await tx.auditLog.count({
      where: {
        action: RESEND_VERIFICATION_ACTION,
        entityType: "user",
        entityId: user.id,
        createdAt: { gt: new Date(now.getTime() - 3_600_000) },
      },
    });
    if (recent >= RESENDS_PER_HOUR) {
      throw new AppError(
        "TOO_MANY_REQUESTS",
        `${user.email} was sent ${recent} verification mails in the last hour; wait before sending another.`,
        "userId",
      );
    }
    const token = await createEmailVerificationToken(
      ports.settings.secret,
      user.email,
      undefined,
      VERIFY_EMAIL_TOKEN_SECONDS,
      // A nonce per resend: two resends in one second are two mails (the outbox dedupes by the token).
      { userId: user.id, resend: randomUUID() },
    );
    await verifyEmailMail({ mailer: ports.mailer, appUrl: ports.settings.appUrl }, user, token);
    await writeAudit(
      tx,
      actor,
      {
        action: RESEND_VERIFICATION_ACTION,
        entityType: "user",
        entityId: user.id,
        after: { accountId: input.accountId, sentTo: user.email },
      },
      now,
    );
    return { userId: user.id, sentTo: user.email, sentAt: now };
  });
}
