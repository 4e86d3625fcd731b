// The role axis of the REST routes: every route a customer reaches with a session cookie (found from the
// OpenAPI document: signed out it answers 401, with a customer's cookie anything but "needs the admin role")
// is in the role table (`ROUTE_ACCESS`, packages/api permissions.ts), and a member of each role is refused
// (403 naming the role) exactly the routes the table does not give that role. POST probes send a body no route
// accepts, so an allowed route answers 400 and nothing runs.
import { ACCOUNT_ROLES, type AccountRole, ROUTE_ACCESS } from "@minutely/api";
import { testDatabase } from "@minutely/db/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "./testing.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db);
afterAll(() => app.close());

let ipCounter = 0;
function nextIp(): string {
  ipCounter += 1;
  return `10.88.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

async function signUp(email: string): Promise<{ cookie: string; userId: string; ownAccountId: string }> {
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    remoteAddress: nextIp(),
    payload: { name: email, email, password: "long-enough-password-1" },
  });
  expect(response.statusCode, response.body).toBe(200);
  const user = await db.user.findUniqueOrThrow({ where: { email }, include: { memberships: true } });
  return {
    cookie: cookiesFrom(response.headers["set-cookie"]),
    userId: user.id,
    ownAccountId: user.memberships[0]?.accountId ?? "",
  };
}

// One account with a member of each role; each member's session acts in it.
const owner = await signUp("rest-role-owner@example.com");
const cookies: Record<AccountRole, string> = {
  owner: owner.cookie,
  admin: "",
  billing: "",
  member: "",
};
for (const role of ["admin", "billing", "member"] as const) {
  const member = await signUp(`rest-role-${role}@example.com`);
  await db.accountMember.create({ data: { accountId: owner.ownAccountId, userId: member.userId, role } });
  await db.session.updateMany({
    where: { userId: member.userId },
    data: { activeAccountId: owner.ownAccountId },
  });
  cookies[role] = member.cookie;
}

const SOME_ID = "00000000-0000-4000-8000-0000000000ee";

async function request(key: string, cookie: string | null) {
  const [method, pattern] = key.split(" ") as ["GET" | "POST", string];
  const url = pattern.replace(/:[a-z_]+/gi, SOME_ID);
  return await app.inject({
    method,
    url,
    remoteAddress: nextIp(),
    headers: {
      origin: TEST_ORIGIN,
      ...(cookie ? { cookie } : {}),
      ...(method === "POST"
        ? { "content-type": "application/json", "idempotency-key": `role-${nextIp()}` }
        : {}),
    },
    ...(method === "POST" ? { payload: JSON.stringify({ roleMatrixProbe: true }) } : {}),
  });
}

const openapi = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json() as {
  paths: Record<string, Record<string, unknown>>;
};
const operations = Object.entries(openapi.paths).flatMap(([path, ops]) =>
  Object.keys(ops)
    .filter((m) => m === "get" || m === "post")
    .map((m) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ":$1")}`),
);

describe("REST role matrix", () => {
  it("has every cookie-authenticated customer route in the role table, and nothing else", async () => {
    const customerRoutes: string[] = [];
    for (const key of operations) {
      if (key.startsWith("POST /api/auth") || key.includes("/webhooks/")) continue;
      const signedOut = await request(key, null);
      if (signedOut.statusCode !== 401) continue;
      const asOwner = await request(key, owner.cookie);
      if (asOwner.statusCode === 403 && asOwner.json().message === "This needs the admin role.") continue;
      // Routes authenticated by an API key or the metering token say so in their 401.
      if (signedOut.json().message !== "Sign in to continue.") continue;
      customerRoutes.push(key);
    }
    expect(customerRoutes.length).toBeGreaterThanOrEqual(8);
    const missing = customerRoutes.filter((key) => !Object.hasOwn(ROUTE_ACCESS, key));
    const stale = Object.keys(ROUTE_ACCESS).filter((key) => !customerRoutes.includes(key));
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  const cells = Object.entries(ROUTE_ACCESS).flatMap(([key, roles]) =>
    ACCOUNT_ROLES.map((role) => [key, role, roles.includes(role)] as const),
  );
  it.each(cells)("%s as %s: allowed %s", async (key, role, allowed) => {
    const response = await request(key, cookies[role]);
    if (allowed) {
      expect(response.statusCode, response.body).not.toBe(403);
      expect(response.statusCode, response.body).not.toBe(401);
    } else {
      expect(response.statusCode, response.body).toBe(403);
      expect(response.json().message).toContain(`Your role in this account (${role})`);
    }
  });
});

describe("a page showing an account this browser switched away from (x-minutely-account)", () => {
  it("its REST and tRPC changes answer 409 and run nowhere; naming the active account, or a malformed value, changes nothing", async () => {
    // The admin's session acts in the owner's account; a stale tab still shows the admin's own account.
    const admin = await db.user.findUniqueOrThrow({
      where: { email: "rest-role-admin@example.com" },
      include: { memberships: { where: { role: "owner" } } },
    });
    const ownAccountId = admin.memberships[0]?.accountId ?? "";
    const post = async (acting: string) =>
      await app.inject({
        method: "POST",
        url: "/api/billing/spend-cap",
        remoteAddress: nextIp(),
        headers: {
          origin: TEST_ORIGIN,
          cookie: cookies.admin,
          "content-type": "application/json",
          "idempotency-key": `acting-${nextIp()}`,
          "x-minutely-account": acting,
        },
        payload: JSON.stringify({ roleMatrixProbe: true }),
      });
    const stale = await post(ownAccountId);
    expect(stale.statusCode, stale.body).toBe(409);
    expect(stale.json().message).toMatch(/switched accounts in another tab/);
    expect((await post(owner.ownAccountId)).statusCode).toBe(400);
    expect((await post("not-a-uuid")).statusCode).toBe(400);

    const trpc = async (acting: string) =>
      await app.inject({
        method: "POST",
        url: "/trpc/team.leave",
        remoteAddress: nextIp(),
        headers: {
          origin: TEST_ORIGIN,
          cookie: cookies.admin,
          "content-type": "application/json",
          "x-minutely-account": acting,
        },
        payload: JSON.stringify({ json: { requestKey: `acting-${nextIp()}` } }),
      });
    const refused = await trpc(ownAccountId);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(await db.accountMember.count({ where: { accountId: owner.ownAccountId, userId: admin.id } })).toBe(
      1,
    );
    // Reads go ahead: the page reloads what the session acts in now.
    const read = await app.inject({
      method: "GET",
      url: "/trpc/team.list",
      remoteAddress: nextIp(),
      headers: { origin: TEST_ORIGIN, cookie: cookies.admin, "x-minutely-account": ownAccountId },
    });
    expect(read.statusCode, read.body).toBe(200);
  });
});
