import { createPrismaClient, Prisma } from "@minutely/db";
import { freePort } from "@minutely/db/embedded";
import { testDatabase } from "@minutely/db/vitest";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { ProviderResourceMissingError } from "../ports/billing.ts";
import { PlanChangeInProgressError } from "../services/metering/overage.ts";
import { StripeBillingProvider, translateStripeError } from "../stripe/provider.ts";
import { classifyFailure } from "./failure-kind.ts";

const { db } = await testDatabase();

/** The error a call makes, or a failed test when it succeeds. */
async function errorOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

/** A Stripe SDK client for a port where nothing listens. */
async function unreachableStripe(): Promise<Stripe> {
  return new Stripe("sk_test_unreachable", {
    host: "127.0.0.1",
    port: await freePort(),
    protocol: "http",
    maxNetworkRetries: 0,
  });
}

const infrastructure = (dependency: string) => ({ kind: "infrastructure", dependency });
const job = { kind: "job" };

describe("classifyFailure: the dependency could not be reached (not counted as an attempt)", () => {
  it("PostgreSQL refusing connections, through Prisma and the driver adapter", async () => {
    const closed = createPrismaClient(`postgresql://nobody:secret@127.0.0.1:${await freePort()}/minutely`);
    try {
      const error = await errorOf(() => closed.$queryRaw`SELECT 1`);
      expect(classifyFailure(error)).toEqual(infrastructure("database"));
      expect(classifyFailure(new Error("report-overage failed", { cause: error }))).toEqual(
        infrastructure("database"),
      );
    } finally {
      await closed.$disconnect();
    }
  });

  it("node-postgres: a connection that broke, a pool shut down, a server going away", () => {
    expect(classifyFailure(new Error("Connection terminated unexpectedly"))).toEqual(
      infrastructure("database"),
    );
    expect(classifyFailure(new Error("Cannot use a pool after calling end on the pool"))).toEqual(
      infrastructure("database"),
    );
    const shutdown = Object.assign(new Error("terminating connection due to administrator command"), {
      code: "57P01",
    });
    expect(classifyFailure(shutdown)).toEqual(infrastructure("database"));
    const starting = Object.assign(new Error("the database system is starting up"), { code: "57P03" });
    expect(classifyFailure(starting)).toEqual(infrastructure("database"));
  });

  it("a socket that could not connect or was reset", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "EAI_AGAIN"]) {
      const error = Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: "connect" });
      expect(classifyFailure(error), code).toEqual(infrastructure("network"));
    }
  });

  it("Stripe unreachable, through the SDK and through the billing provider", async () => {
    const stripe = await unreachableStripe();
    const raw = await errorOf(() => stripe.customers.retrieve("cus_unreachable"));
    expect(raw).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(classifyFailure(raw)).toEqual(infrastructure("stripe"));
    const provider = new StripeBillingProvider(stripe);
    const translated = await errorOf(() => provider.retrieveSubscription("sub_unreachable"));
    expect(classifyFailure(translated)).toEqual(infrastructure("stripe"));
  });

  it("Stripe failing on its side (5xx) or asking us to slow down (429)", () => {
    const apiError = new Stripe.errors.StripeAPIError({
      type: "api_error",
      message: "Something went wrong",
      statusCode: 500,
    });
    expect(classifyFailure(apiError)).toEqual(infrastructure("stripe"));
    expect(classifyFailure(translateStripeError(apiError))).toEqual(infrastructure("stripe"));
    const rateLimit = new Stripe.errors.StripeRateLimitError({
      type: "rate_limit_error",
      message: "Too many requests",
      statusCode: 429,
    });
    expect(classifyFailure(rateLimit)).toEqual(infrastructure("stripe"));
    expect(classifyFailure(translateStripeError(rateLimit))).toEqual(infrastructure("stripe"));
    const badGateway = new Stripe.errors.StripeInvalidRequestError({
      type: "invalid_request_error",
      message: "Bad gateway",
      statusCode: 502,
    });
    expect(classifyFailure(badGateway)).toEqual(infrastructure("stripe"));
  });
});

describe("classifyFailure: the job's own error (counted as an attempt)", () => {
  it("a query PostgreSQL refused, and a violated constraint", async () => {
    expect(classifyFailure(await errorOf(() => db.$queryRaw`SELECT 1 / 0`))).toEqual(job);
    const account = await db.account.create({ data: { name: "Failure kind" } });
    const duplicate = await errorOf(() => db.account.create({ data: { id: account.id, name: "Again" } }));
    expect(duplicate).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect(classifyFailure(duplicate)).toEqual(job);
  });

  it("a request Stripe refused: invalid, unknown object, declined card, idempotency key misuse", () => {
    const invalid = new Stripe.errors.StripeInvalidRequestError({
      type: "invalid_request_error",
      message: "No such price",
      statusCode: 400,
      code: "resource_missing",
    });
    expect(classifyFailure(invalid)).toEqual(job);
    expect(classifyFailure(translateStripeError(invalid))).toEqual(job);
    expect(classifyFailure(new ProviderResourceMissingError("Stripe has no such object"))).toEqual(job);
    const declined = new Stripe.errors.StripeCardError({
      type: "card_error",
      message: "Your card was declined",
      statusCode: 402,
    });
    expect(classifyFailure(declined)).toEqual(job);
    const idempotency = new Stripe.errors.StripeIdempotencyError({
      type: "idempotency_error",
      message: "Keys for idempotent requests can only be used with the same parameters",
      statusCode: 400,
    });
    expect(classifyFailure(idempotency)).toEqual(job);
    const refused = new Error("Stripe refused a request: Invalid API key", {
      cause: new Stripe.errors.StripeAuthenticationError({
        type: "invalid_request_error",
        message: "Invalid API key",
        statusCode: 401,
      }),
    });
    expect(classifyFailure(refused)).toEqual(job);
  });

  it("a payload that does not parse, a refusal of the service, a plain bug", () => {
    const parse = z.object({ alertId: z.uuid() }).safeParse({ alertId: "nope" });
    expect(classifyFailure(parse.error)).toEqual(job);
    expect(classifyFailure(new AppError("NOT_FOUND", "No such alert."))).toEqual(job);
    expect(classifyFailure(new PlanChangeInProgressError("a plan change is in progress"))).toEqual(job);
    expect(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'id')"))).toEqual(job);
    expect(classifyFailure("a string thrown")).toEqual(job);
    expect(classifyFailure(undefined)).toEqual(job);
  });
});
