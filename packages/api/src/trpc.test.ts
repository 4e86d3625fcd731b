// How errors leave tRPC: the services' AppError keeps its message and field, anything unexpected is
// reduced to one sentence for people (its text, which may name hosts, SQL or Stripe internals, stays in logs).
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Context } from "./context.ts";
import { AppError } from "./errors.ts";
import { publicProcedure, router } from "./trpc.ts";

const testRouter = router({
  unexpected: publicProcedure.mutation(() => {
    throw new Error("connect ECONNREFUSED 10.0.0.5:5432 at pg.Client (/srv/node_modules/pg/lib/client.js)");
  }),
  databaseDown: publicProcedure.query(() => {
    throw Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: "P1001" });
  }),
  refused: publicProcedure.mutation(() => {
    throw new AppError("BAD_REQUEST", "Choose a package.", "packageId");
  }),
  validated: publicProcedure
    .input(z.object({ name: z.string().min(1, "Give it a name") }))
    .mutation(() => "ok"),
});

async function call(path: string, input: unknown) {
  const response = await fetchRequestHandler({
    endpoint: "/trpc",
    router: testRouter,
    req: new Request(`http://localhost/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ json: input }),
    }),
    createContext: () => ({}) as Context,
  });
  return { status: response.status, body: await response.text() };
}

describe("tRPC error shapes", () => {
  it("answers an unexpected error with a generic message and no internals", async () => {
    const { status, body } = await call("unexpected", {});
    expect(status).toBe(500);
    expect(body).toMatch(/Something went wrong on our side/);
    expect(body).not.toMatch(/ECONNREFUSED|5432|node_modules|client\.js/);
  });

  it("answers 503, retryable, while the database cannot be reached", async () => {
    const response = await fetchRequestHandler({
      endpoint: "/trpc",
      router: testRouter,
      req: new Request("http://localhost/trpc/databaseDown"),
      createContext: () => ({}) as Context,
    });
    const body = await response.text();
    expect(response.status).toBe(503);
    expect(body).toMatch(/cannot reach its database right now/);
    expect(body).not.toMatch(/5432/);
  });

  it("keeps the message and the field of the services' errors and of validation", async () => {
    const refused = await call("refused", {});
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).error.json).toMatchObject({
      message: "Choose a package.",
      data: { fieldErrors: { packageId: "Choose a package." } },
    });
    const invalid = await call("validated", { name: "" });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.body).error.json.data.fieldErrors).toEqual({ name: "Give it a name" });
    expect(JSON.parse(invalid.body).error.json.message).toBe("Invalid input: name: Give it a name");
  });
});
