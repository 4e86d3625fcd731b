// The admin app's "Resend invitation": the customer's pending invitation mailed again with a new link (the
// same rules as the customer's own resend: rate limited, rotates the token), recorded in the audit log.
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { resendInvitation } from "../accounts/index.ts";
import { writeAudit } from "../audit.ts";

export async function adminResendInvitation(
  ports: Pick<Ports, "db" | "clock" | "mailer" | "settings">,
  actor: Viewer,
  input: { accountId: string; invitationId: string },
): Promise<{ invitationId: string; expiresAt: Date; sendCount: number }> {
  const invitation = await ports.db.accountInvitation.findFirst({
    where: { id: input.invitationId, accountId: input.accountId },
    select: { email: true, sendCount: true },
  });
  if (!invitation) throw new AppError("NOT_FOUND", "No such invitation of this customer.", "invitationId");
  const result = await resendInvitation(ports, input.accountId, input.invitationId, null);
  await writeAudit(
    ports.db,
    actor,
    {
      action: "invitation.resend",
      entityType: "account",
      entityId: input.accountId,
      before: { invitationId: input.invitationId, email: invitation.email, sendCount: invitation.sendCount },
      after: { sendCount: result.sendCount, expiresAt: result.expiresAt },
    },
    ports.clock.now(),
  );
  return result;
}
