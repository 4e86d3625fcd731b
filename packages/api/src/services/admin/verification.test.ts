// Admins resend a verification mail (audit-logged, rate limited, a double click is one) and see deleted
// accounts as such in the customer list and detail.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import type { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { createAuth } from "../../auth.ts";
import type { Viewer } from "../../context.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { deleteAccount } from "../accounts/index.ts";
import { customerDetail, listCustomers } from "./customers.ts";
import { RESENDS_PER_HOUR } from "./verification.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock, appUrl: "http://app.test" });
const adminUser = await db.user.create({ data: { email: "ops@verify.test", name: "Ops", role: "admin" } });
const admin: Viewer = {
  userId: adminUser.id,
  email: adminUser.email,
  name: "Ops",
  role: "admin",
  accountId: null,
};
const caller = createCallerFactory(adminRouter)({ ...ports, requestId: "t", viewer: admin });

async function customer(name: string, emailVerified = false) {
  const account = await db.account.create({ data: { name } });
  const user = await db.user.create({
    data: {
      email: `${name.toLowerCase().replace(/\W/g, "")}@verify.test`,
      name,
      emailVerified,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  return { accountId: account.id, userId: user.id, email: user.email };
}

const mailsTo = (to: string) => db.mailMessage.findMany({ where: { to }, orderBy: { sentAt: "asc" } });

describe("admin: resend verification email", () => {
  it("mails a working link once per click, audit-logged", async () => {
    const c = await customer("Unverified One");
    const input = { accountId: c.accountId, userId: c.userId, requestKey: "resend-click-1" };
    const first = await caller.customers.resendVerification(input);
    const second = await caller.customers.resendVerification(input);
    expect(second).toEqual(first);
    expect(first).toMatchObject({ userId: c.userId, sentTo: c.email });
    const mails = await mailsTo(c.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.subject).toBe("Confirm your email address for Minutely");
    const audit = await db.auditLog.findMany({ where: { entityId: c.userId } });
    expect(audit).toMatchObject([{ action: "user.resend_verification", actorEmail: "ops@verify.test" }]);

    // The link verifies the address (better-auth checks the token it signed with the same secret).
    const token = new URL(/http\S+/.exec(mails[0]?.text ?? "")?.[0] ?? "").searchParams.get("token") ?? "";
    const auth = createAuth({
      db,
      secret: ports.settings.secret,
      baseUrl: "http://api.test",
      trustedOrigins: [],
      secureCookies: false,
      mail: { mailer: ports.mailer, appUrl: "http://app.test" },
    });
    await auth.api.verifyEmail({ query: { token } });
    expect((await db.user.findUniqueOrThrow({ where: { id: c.userId } })).emailVerified).toBe(true);
    // Verified now: no more resends.
    const again = await caller.customers
      .resendVerification({ accountId: c.accountId, userId: c.userId, requestKey: "resend-click-2" })
      .catch((e: unknown) => e as TRPCError);
    expect(again).toMatchObject({ code: "CONFLICT" });
  });

  it(`allows ${RESENDS_PER_HOUR} resends a user an hour, then TOO_MANY_REQUESTS naming userId`, async () => {
    const c = await customer("Impatient");
    for (let i = 0; i < RESENDS_PER_HOUR; i++) {
      await caller.customers.resendVerification({
        accountId: c.accountId,
        userId: c.userId,
        requestKey: `impatient-${i}`,
      });
    }
    const error = await caller.customers
      .resendVerification({ accountId: c.accountId, userId: c.userId, requestKey: "impatient-last" })
      .catch((e: unknown) => e as TRPCError);
    expect(error).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    expect((error as TRPCError).message).toContain("verification mails in the last hour");
    expect(await mailsTo(c.email)).toHaveLength(RESENDS_PER_HOUR);
  });

  it("refuses a user of another account (NOT_FOUND naming userId) and bad ids (BAD_REQUEST)", async () => {
    const a = await customer("Account A");
    const b = await customer("Account B");
    const error = await caller.customers
      .resendVerification({ accountId: a.accountId, userId: b.userId, requestKey: "cross-account" })
      .catch((e: unknown) => e as TRPCError);
    expect(error).toMatchObject({ code: "NOT_FOUND" });
    const bad = await caller.customers
      .resendVerification({ accountId: a.accountId, userId: "nope", requestKey: "bad-user-id" } as never)
      .catch((e: unknown) => e as TRPCError);
    expect(bad).toMatchObject({ code: "BAD_REQUEST" });
    expect((bad as TRPCError).message).toContain("userId");
    expect(await mailsTo(b.email)).toHaveLength(0);
  });

  it("shows a deleted account as deleted and mails its users nothing", async () => {
    const c = await customer("Gone Ltd");
    await deleteAccount(ports, c, { confirmation: "Gone Ltd" });
    const list = await listCustomers(ports, { page: 1, pageSize: 100, status: "all", spendCap: "all" });
    expect(list.items.find((i) => i.accountId === c.accountId)).toMatchObject({
      name: "Deleted account",
      deletedAt: clock.now(),
    });
    const detail = await customerDetail(ports, c.accountId);
    expect(detail.account.deletedAt).toEqual(clock.now());
    const error = await caller.customers
      .resendVerification({ accountId: c.accountId, userId: c.userId, requestKey: "gone-account" })
      .catch((e: unknown) => e as TRPCError);
    expect(error).toMatchObject({ code: "CONFLICT" });
  });
});
