import { once } from "node:events";
import net, { type AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerErrorHandler } from "./rest.ts";

const app = Fastify({ bodyLimit: 1024 });
registerErrorHandler(app);
app.post("/upload", async () => ({ ok: true }));
let port = 0;

beforeAll(async () => {
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(() => app.close());

/**
 * A client that sends an upload far over the limit and, busy sending, reads nothing for a second after the
 * server has answered; then it reads. What it got: the answer, or the error its writes ran into.
 */
async function uploadWithoutReading(): Promise<{ writeError: string | null; answer: string }> {
  const socket = net.connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.pause();
  let writeError: string | null = null;
  socket.on("error", (error: NodeJS.ErrnoException) => {
    writeError ??= error.code ?? error.message;
  });
  socket.write(
    "POST /upload HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
      "content-length: 1073741824\r\n\r\n",
  );
  const chunk = Buffer.alloc(64 * 1024, "x");
  for (let i = 0; i < 40 && writeError === null; i++) {
    socket.write(chunk);
    await sleep(25);
  }
  const received: Buffer[] = [];
  socket.on("data", (data: Buffer) => received.push(data));
  socket.resume();
  socket.end();
  await Promise.race([once(socket, "close"), sleep(10_000)]);
  socket.destroy();
  return { writeError, answer: Buffer.concat(received).toString("latin1") };
}

describe("a refused upload", () => {
  it("is answered with the 413, and the client still sending is not reset before it has read it", async () => {
    const { writeError, answer } = await uploadWithoutReading();
    expect(writeError).toBeNull();
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('"error":"payload_too_large"');
  });

  it("keeps no connection open once the client has gone", async () => {
    await uploadWithoutReading();
    const connections = await new Promise<number>((resolve, reject) =>
      app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );
    expect(connections).toBe(0);
  });
});
