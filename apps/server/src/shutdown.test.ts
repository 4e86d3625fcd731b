// Shutdown of the real API process with a request that never finishes (a client that sent its headers and
// half a body, then went quiet): after the drain and a grace period the connection is cut, the worker and
// the database pool stop in order, the process exits 0, and the log names the request that held it.
import { connect } from "node:net";
import { testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";

const stack = await testStack({ env: { SHUTDOWN_DRAIN_SECONDS: "0" } });

describe("shutdown", () => {
  it("cuts a request that does not finish within the grace period, then stops in order and exits 0", async () => {
    const { port } = new URL(stack.baseUrl);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    socket.write(
      "POST /api/v1/usage/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dev-metering-token\r\n" +
        'Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"events":[',
    );
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.on("error", () => {});
    // Let the server see the request before the signal.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await stack.kill("SIGTERM", 30_000);
    await closed;
    expect(stack.exitCode(), stack.logs().slice(-3000)).toBe(0);
    expect(Date.now() - started).toBeLessThan(25_000);
    const cut = stack
      .logs()
      .split("\n")
      .find((line) => line.includes("connections still open after the grace period"));
    expect(cut, stack.logs().slice(-3000)).toBeDefined();
    expect(JSON.parse(cut ?? "{}").requests).toEqual([
      expect.objectContaining({ method: "POST", url: "/api/v1/usage/calls" }),
    ]);
    expect(stack.logs()).toMatch(/"msg":"shut down"/);
  }, 60_000);
});
