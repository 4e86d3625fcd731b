// The API exactly as `main.ts` builds it, plus one plain Fastify route that makes the same dashboard
// service call as the tRPC query: the baseline for tRPC's own cost in the dashboard benchmark.
import { createAuth, dashboard } from "@minutely/api";
import { loadConfigOrExit } from "../apps/server/src/config.ts";
import { createRuntime } from "../apps/server/src/runtime.ts";
import { buildServer } from "../apps/server/src/server.ts";
import { viewerOf } from "../apps/server/src/session.ts";

const config = loadConfigOrExit("api");
const { ports } = createRuntime(config);
const auth = createAuth({
  db: ports.db,
  secret: config.sessionSecret,
  baseUrl: config.publicUrl,
  trustedOrigins: config.trustedOrigins,
  secureCookies: config.secureCookies,
});
const app = await buildServer({ config, auth, ...ports });
app.get("/bench/dashboard", async (req, reply) => {
  const viewer = await viewerOf(auth, req);
  if (!viewer?.accountId) return reply.code(401).send({ error: "unauthorized" });
  return await dashboard(ports, { ...viewer, accountId: viewer.accountId });
});
await app.listen({ host: config.host, port: config.port });
// Ctrl+C (or the profiler's SIGINT) ends the process normally, so `--cpu-prof` writes its profile.
process.once("SIGINT", () => {
  void app.close().finally(() => process.exit(0));
});
