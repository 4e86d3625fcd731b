import type { Prisma } from "@minutely/db";
import type { Viewer } from "../context.ts";
import type { Db } from "../db.ts";

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

function json(value: unknown): Prisma.InputJsonValue | undefined {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue);
}

/** Records an admin change (who, what, before and after); call it inside the change's transaction. */
export async function writeAudit(db: Db, actor: Viewer, entry: AuditEntry, at: Date): Promise<void> {
  await db.auditLog.create({
    data: {
      actorUserId: actor.userId,
      actorEmail: actor.email,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      before: json(entry.before),
      after: json(entry.after),
      createdAt: at,
    },
  });
}
