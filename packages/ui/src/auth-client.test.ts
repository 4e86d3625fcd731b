// The auth client retries what may succeed a moment later (no connection, 502/503/504) with the same
// Idempotency-Key, waits as the server asks when that is short, and shows every other answer at once.
import { describe, expect, it } from "vitest";
import { AuthError, type AuthTransport, postAuth, safeRedirect } from "./auth-client.ts";

function transport(answers: Array<Response | Error>) {
  const calls: Array<{ url: string; key: string | null }> = [];
  const sleeps: number[] = [];
  const t: AuthTransport = {
    fetch: async (url, init) => {
      calls.push({ url: String(url), key: new Headers(init?.headers).get("idempotency-key") });
      const next = answers.shift();
      if (next === undefined) throw new Error("no more answers");
      if (next instanceof Error) throw next;
      return next;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  return { t, calls, sleeps };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

describe("postAuth", () => {
  it("retries a 503 after its short Retry-After, with the same key, and returns the answer", async () => {
    const { t, calls, sleeps } = transport([
      json(503, { message: "unavailable" }, { "retry-after": "2" }),
      json(200, { ok: true }),
    ]);
    await expect(postAuth("sign-in/email", { email: "a@example.com", password: "p" }, t)).resolves.toEqual({
      ok: true,
    });
    expect(sleeps).toEqual([2000]);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.key).toMatch(/^[0-9a-f]{32}$/);
    expect(calls[1]?.key).toBe(calls[0]?.key);
  });

  it("retries a lost connection and a 502 without Retry-After, then gives up after three attempts", async () => {
    const { t, calls, sleeps } = transport([
      new TypeError("Failed to fetch"),
      json(502, {}),
      json(503, { message: "Minutely is briefly unavailable" }),
    ]);
    const error = await postAuth("sign-in/email", { email: "b@example.com", password: "p" }, t).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ status: 503, message: "Minutely is briefly unavailable" });
    expect(calls).toHaveLength(3);
    expect(sleeps).toEqual([1000, 2000]);
  });

  it("does not wait out a long Retry-After: the error is shown", async () => {
    const { t, calls, sleeps } = transport([
      json(503, { message: "down for maintenance" }, { "retry-after": "60" }),
    ]);
    await expect(
      postAuth("sign-in/email", { email: "c@example.com", password: "p" }, t),
    ).rejects.toMatchObject({
      status: 503,
    });
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("never retries a refusal: wrong password, too many attempts", async () => {
    for (const status of [401, 429]) {
      const { t, calls } = transport([json(status, { message: `refused ${status}`, code: "X" })]);
      await expect(
        postAuth("sign-in/email", { email: "d@example.com", password: "p" }, t),
      ).rejects.toMatchObject({
        status,
        message: `refused ${status}`,
        code: "X",
      });
      expect(calls).toHaveLength(1);
    }
  });

  it("names the status when a proxy answers with a page instead of JSON", async () => {
    const { t } = transport([new Response("<html>Bad gateway</html>", { status: 500 })]);
    await expect(postAuth("sign-out", {}, t)).rejects.toMatchObject({
      status: 500,
      message: "Request failed (500)",
    });
  });
});

describe("safeRedirect: where sign-in sends the visitor back to", () => {
  it("follows same-app paths with their search and fragment", () => {
    expect(safeRedirect("/usage")).toBe("/usage");
    expect(safeRedirect("/customers?q=acme&page=2#top")).toBe("/customers?q=acme&page=2#top");
    expect(safeRedirect("/packages/ck1abc")).toBe("/packages/ck1abc");
    expect(safeRedirect(undefined)).toBe("/");
    expect(safeRedirect("")).toBe("/");
  });

  it("refuses every address a browser reads as another site, or outside the app", () => {
    for (const hostile of [
      "//evil.example",
      "https://evil.example",
      "javascript:alert(1)",
      "evil.example",
      // Browsers read "\" as "/" and drop tabs and newlines: each of these is //evil.example.
      "/\\evil.example",
      "/\\/evil.example",
      "\\\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/\r/evil.example",
      // Dot segments climb out of the app's base (/admin/../x is /x).
      "/../evil",
      "/packages/../../evil",
      "/%2e%2e/evil",
      "/.%2E/evil",
      "/./usage",
      "~/evil",
    ]) {
      expect(safeRedirect(hostile), hostile).toBe("/");
    }
  });
});
