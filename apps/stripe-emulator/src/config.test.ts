import { describe, expect, it } from "vitest";
import { parseStripeApiBase } from "./config.ts";

describe("parseStripeApiBase", () => {
  it("turns STRIPE_API_BASE into the SDK's host/port/protocol", () => {
    expect(parseStripeApiBase("http://127.0.0.1:12111")).toEqual({
      host: "127.0.0.1",
      port: 12111,
      protocol: "http",
    });
    expect(parseStripeApiBase("https://stripe-emulator.internal")).toEqual({
      host: "stripe-emulator.internal",
      port: 443,
      protocol: "https",
    });
    expect(parseStripeApiBase("http://[::1]:9000/")).toEqual({ host: "::1", port: 9000, protocol: "http" });
  });

  it("means real Stripe when unset or empty", () => {
    expect(parseStripeApiBase(undefined)).toBeUndefined();
    expect(parseStripeApiBase("  ")).toBeUndefined();
  });

  it("rejects other protocols", () => {
    expect(() => parseStripeApiBase("ftp://example.com")).toThrow(/http/);
  });
});
