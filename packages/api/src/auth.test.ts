import { testDatabase } from "@minutely/db/vitest";
import { describe, expect, it } from "vitest";
import { activeMembership } from "./auth.ts";
import { createAccount } from "./services/metering/metering.fixtures.ts";

const { db } = await testDatabase();

describe("activeMembership: the account a signed-in request runs in", () => {
  it("is the session's account while the person belongs to it, else their oldest membership", async () => {
    const first = await createAccount(db, "First");
    const second = await db.account.create({ data: { name: "Second" } });
    const third = await db.account.create({ data: { name: "Third" } });
    const stranger = await createAccount(db, "Stranger");
    await db.accountMember.create({
      data: {
        accountId: third.id,
        userId: first.userId,
        role: "member",
        createdAt: new Date("2030-01-02T00:00:00Z"),
      },
    });
    await db.accountMember.create({
      data: {
        accountId: second.id,
        userId: first.userId,
        role: "admin",
        createdAt: new Date("2030-01-01T00:00:00Z"),
      },
    });
    const oldest = { accountId: first.accountId, role: "owner" };
    expect(await activeMembership(db, first.userId, null)).toEqual(oldest);
    expect(await activeMembership(db, first.userId, second.id)).toEqual({
      accountId: second.id,
      role: "admin",
    });
    expect(await activeMembership(db, first.userId, third.id)).toEqual({
      accountId: third.id,
      role: "member",
    });
    // An account the person does not belong to is never chosen.
    expect(await activeMembership(db, first.userId, stranger.accountId)).toEqual(oldest);
    // Removed from the session's account: back to the oldest membership left.
    await db.accountMember.delete({
      where: { accountId_userId: { accountId: third.id, userId: first.userId } },
    });
    expect(await activeMembership(db, first.userId, third.id)).toEqual(oldest);
    await db.accountMember.deleteMany({ where: { userId: first.userId } });
    expect(await activeMembership(db, first.userId, second.id)).toBeNull();
  });
});
