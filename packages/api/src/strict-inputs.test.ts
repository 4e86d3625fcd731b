// Unknown input keys are refused, never ignored: every procedure of both routers (enumerated from the routers,
// so a new one is covered without editing this file), called over HTTP by a caller it admits, with an input
// holding a key it does not declare, answers 400 BAD_REQUEST naming the key.
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl } from "@minutely/testing";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import type { Context, Viewer } from "./context.ts";
import { adminRouter, appRouter } from "./root.ts";
import { testPorts } from "./testing.ts";

const { db } = await testDatabase();
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl() });

async function createUser(email: string, role: "user" | "admin"): Promise<Viewer> {
  const account = await db.account.create({ data: { name: `${email}'s account` } });
  const user = await db.user.create({
    data: { email, name: email, memberships: { create: { accountId: account.id, role: "owner" } }, role },
  });
  return { userId: user.id, email, name: email, role, accountId: account.id };
}

const customer = await createUser("strict-customer@example.com", "user");
const admin = await createUser("strict-admin@example.com", "admin");

type AnyRouter = typeof appRouter | typeof adminRouter;

function procedures(router: AnyRouter): { path: string; type: string }[] {
  return Object.entries(router._def.procedures as unknown as Record<string, { _def: { type: string } }>)
    .map(([path, procedure]) => ({ path, type: procedure._def.type }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** One call through tRPC's HTTP handler (the same error formatting as the server's), as `viewer`. */
async function callOverHttp(router: AnyRouter, viewer: Viewer, path: string, type: string, input: unknown) {
  const encoded = JSON.stringify(superjson.serialize(input));
  const url = `http://localhost/trpc/${path}`;
  const req =
    type === "query" || type === "subscription"
      ? new Request(`${url}?input=${encodeURIComponent(encoded)}`)
      : new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body: encoded });
  const response = await fetchRequestHandler({
    endpoint: "/trpc",
    req,
    router,
    createContext: (): Context => ({ ...ports, viewer, requestId: "strict-inputs" }),
  });
  type ErrorShape = {
    message: string;
    data: { code: string; httpStatus: number; fieldErrors: Record<string, string> | null };
  };
  if (type === "subscription") {
    // A subscription (server-sent events) answers 200 and sends its error as a `serialized-error` event.
    const text = await response.text();
    const data = /event: serialized-error\ndata: (.*)\n/.exec(text)?.[1];
    const error = data ? (JSON.parse(data) as { json: ErrorShape }).json : undefined;
    return { status: error?.data.httpStatus ?? response.status, error };
  }
  const body = (await response.json()) as { error?: { json: ErrorShape } };
  return { status: response.status, error: body.error?.json };
}

describe("unknown input keys", () => {
  const routers = [
    { name: "app", router: appRouter as AnyRouter, viewer: customer },
    { name: "admin", router: adminRouter as AnyRouter, viewer: admin },
  ];

  it("finds the procedures of both routers", () => {
    expect(procedures(appRouter).map((p) => p.path)).toEqual(
      expect.arrayContaining(["dashboard.get", "apiKeys.create", "subscription.cancel"]),
    );
    expect(procedures(adminRouter).length).toBeGreaterThan(10);
  });

  it.each(routers)(
    "are a 400 BAD_REQUEST naming the key on every procedure of the $name router",
    async ({ router, viewer }) => {
      const accepted: string[] = [];
      for (const { path, type } of procedures(router)) {
        const { status, error } = await callOverHttp(router, viewer, path, type, { unexpectedKey: 1 });
        const named = error?.data.fieldErrors?.unexpectedKey !== undefined;
        if (status !== 400 || error?.data.code !== "BAD_REQUEST" || !named) {
          accepted.push(`${path}: ${status} ${JSON.stringify(error ?? "no error")}`);
        }
      }
      expect(accepted).toEqual([]);
    },
  );

  it("name the key in the message when it is the only problem, also inside a nested object", async () => {
    const keys = await callOverHttp(appRouter, customer, "apiKeys.create", "mutation", {
      name: "ci",
      scopes: ["all"],
    });
    expect(keys.status).toBe(400);
    expect(keys.error?.message).toBe("Invalid input: scopes: is not a field of this input");

    const agents = await callOverHttp(appRouter, customer, "agents.list", "query", {
      accountId: admin.accountId,
    });
    expect(agents.error?.message).toBe("Invalid input: accountId: is not a field of this input");

    const update = await callOverHttp(adminRouter, admin, "packages.update", "mutation", {
      id: "00000000-0000-4000-8000-000000000000",
      values: {
        name: "Nested",
        description: "",
        monthlyPriceCents: 100,
        currency: "usd",
        callMinutesLimit: 10,
        agentsAllowed: 1,
        analyticsAccess: false,
        apiAccess: false,
        overagePriceCentsPerMinute: null,
        recommended: false,
        colour: "red",
      },
    });
    expect(update.status).toBe(400);
    expect(update.error?.message).toBe("Invalid input: values.colour: is not a field of this input");
  });

  it("refuses coupon inputs of the wrong type or range over HTTP: 400 naming the field, never coerced", async () => {
    const base = { name: "Typed", duration: "once" };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, percentOff: "20" }, "percentOff"],
      [{ ...base, percentOff: 0 }, "percentOff"],
      [{ ...base, percentOff: null, amountOffCents: 500 }, "currency"],
      [{ ...base, percentOff: 10, duration: "repeating", durationInMonths: 37 }, "durationInMonths"],
      [{ ...base, percentOff: 10, maxRedemptions: 1_000_001 }, "maxRedemptions"],
      [{ ...base, percentOff: 10, redeemBy: "2027-01-01" }, "redeemBy"],
    ];
    for (const [input, field] of cases) {
      const answer = await callOverHttp(adminRouter, admin, "coupons.create", "mutation", input);
      expect(answer.status, JSON.stringify(input)).toBe(400);
      expect(Object.keys(answer.error?.data.fieldErrors ?? {}), JSON.stringify(input)).toEqual([field]);
    }
    const code = await callOverHttp(adminRouter, admin, "coupons.createCode", "mutation", {
      couponId: "00000000-0000-4000-8000-000000000000",
      code: "two words",
    });
    expect(code.status).toBe(400);
    expect(code.error?.data.fieldErrors).toHaveProperty("code");
    const check = await callOverHttp(appRouter, customer, "subscription.checkPromotionCode", "query", {
      packageId: "00000000-0000-4000-8000-000000000000",
      code: 25,
    });
    expect(check.status).toBe(400);
    expect(check.error?.data.fieldErrors).toHaveProperty("code");
  });
});
