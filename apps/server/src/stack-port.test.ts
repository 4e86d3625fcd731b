// The test stack (packages/testing, stack.ts) chooses a free port for the API process, but a port is only
// free when it is chosen: before the API listens, another process may take it (CI saw EADDRINUSE when the
// two SPAs' browser tests started their stacks at once). The stack then chooses another port and starts its
// emulator and the API again, instead of failing the test file.
import { createServer, type Server, type Socket } from "node:net";
import { freePort } from "@minutely/db/embedded";
import { testStack } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";

/** A port held by a listener of this test, as another process would hold it (accepting, never answering). */
const taken: Server = createServer();
const accepted = new Set<Socket>();
taken.on("connection", (socket) => accepted.add(socket));
await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise<void>((resolve) => taken.close(() => resolve()));
});
const takenPort = (taken.address() as { port: number }).port;

const chosen: number[] = [];
const stack = await testStack({
  choosePort: async () => {
    const port = chosen.length === 0 ? takenPort : await freePort();
    chosen.push(port);
    return port;
  },
});

describe("the test stack's port", () => {
  it("taken between choosing and listening: chosen again, and the API and its emulator serve on the new one", async () => {
    expect(chosen).toHaveLength(2);
    expect(chosen[0]).toBe(takenPort);
    expect(new URL(stack.baseUrl).port).toBe(String(chosen[1]));
    expect((await fetch(`${stack.baseUrl}/health`)).ok).toBe(true);
    // The emulator of the stack delivers its webhooks to the API's new port (a customer created there is
    // mirrored through a webhook only if so).
    const { cookie } = await stack.createUser({ email: "port@example.com", password: "port-password-1" });
    expect(cookie).toContain("=");
    expect(stack.logs()).not.toContain("EADDRINUSE");
  }, 60_000);
});
