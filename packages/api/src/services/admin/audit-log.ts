// The audit log of admin actions, newest first, filtered by admin, entity and date range, paged by keyset
// (created_at, id) on the indexes audit_log(created_at), (actor_user_id, created_at) and
// (entity_type, entity_id, created_at).
import { Prisma } from "@minutely/db";
import type { Ports } from "../../context.ts";

export interface AuditCursor {
  createdAt: Date;
  id: string;
}

export interface AuditListInput {
  actorUserId?: string | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  /** Inclusive lower bound. */
  from?: Date | undefined;
  /** Exclusive upper bound. */
  to?: Date | undefined;
  cursor?: AuditCursor | undefined;
  limit: number;
}

export interface AuditEntryView {
  id: string;
  actorUserId: string | null;
  actorEmail: string;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
  createdAt: Date;
}

interface Row {
  id: string;
  actor_user_id: string | null;
  actor_email: string;
  action: string;
  entity_type: string;
  entity_id: string;
  before: unknown;
  after: unknown;
  created_at: Date;
}

export async function listAuditLog(
  { db }: Pick<Ports, "db">,
  input: AuditListInput,
): Promise<{ items: AuditEntryView[]; nextCursor: AuditCursor | null }> {
  const conditions: Prisma.Sql[] = [];
  if (input.actorUserId) conditions.push(Prisma.sql`actor_user_id = ${input.actorUserId}::uuid`);
  if (input.entityType) conditions.push(Prisma.sql`entity_type = ${input.entityType}`);
  if (input.entityId) conditions.push(Prisma.sql`entity_id = ${input.entityId}`);
  if (input.from) conditions.push(Prisma.sql`created_at >= ${input.from}`);
  if (input.to) conditions.push(Prisma.sql`created_at < ${input.to}`);
  if (input.cursor) {
    conditions.push(Prisma.sql`(created_at, id) < (${input.cursor.createdAt}, ${input.cursor.id}::uuid)`);
  }
  const where = conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
  const rows = await db.$queryRaw<Row[]>`
    SELECT id, actor_user_id, actor_email, action, entity_type, entity_id, before, after, created_at
    FROM audit_log ${where}
    ORDER BY created_at DESC, id DESC
    LIMIT ${input.limit + 1}`;
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      id: r.id,
      actorUserId: r.actor_user_id,
      actorEmail: r.actor_email,
      action: r.action,
      entityType: r.entity_type,
      entityId: r.entity_id,
      before: r.before,
      after: r.after,
      createdAt: r.created_at,
    })),
    nextCursor: rows.length > input.limit && last ? { createdAt: last.created_at, id: last.id } : null,
  };
}

/**
 * What the filters offer: the admins who appear in the log and the entity types in it. Both are read
 * with a skip scan over their indexes (one index probe per distinct value), not a scan of the log.
 */
export async function auditFilterOptions({ db }: Pick<Ports, "db">): Promise<{
  actors: { userId: string; email: string }[];
  entityTypes: string[];
}> {
  const [actors, types] = await Promise.all([
    db.$queryRaw<{ user_id: string; email: string }[]>`
      WITH RECURSIVE ids AS (
        (SELECT actor_user_id AS id FROM audit_log WHERE actor_user_id IS NOT NULL ORDER BY actor_user_id LIMIT 1)
        UNION ALL
        SELECT (SELECT actor_user_id FROM audit_log WHERE actor_user_id > ids.id ORDER BY actor_user_id LIMIT 1)
        FROM ids WHERE ids.id IS NOT NULL
      )
      SELECT ids.id AS user_id, COALESCE(u.email, (
        SELECT l.actor_email FROM audit_log l WHERE l.actor_user_id = ids.id ORDER BY l.created_at DESC LIMIT 1
      )) AS email
      FROM ids LEFT JOIN "user" u ON u.id = ids.id
      WHERE ids.id IS NOT NULL
      ORDER BY 2`,
    db.$queryRaw<{ entity_type: string }[]>`
      WITH RECURSIVE types AS (
        (SELECT entity_type FROM audit_log ORDER BY entity_type LIMIT 1)
        UNION ALL
        SELECT (SELECT entity_type FROM audit_log WHERE entity_type > types.entity_type ORDER BY entity_type LIMIT 1)
        FROM types WHERE types.entity_type IS NOT NULL
      )
      SELECT entity_type FROM types WHERE entity_type IS NOT NULL`,
  ]);
  return {
    actors: actors.map((a) => ({ userId: a.user_id, email: a.email })),
    entityTypes: types.map((t) => t.entity_type),
  };
}
