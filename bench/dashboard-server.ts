// The API exactly as `main.ts` builds it, plus the dashboard benchmark's two plain Fastify routes
// (dashboard-routes.ts: the same service call as the tRPC query, and the same JSON from one SQL statement)
// and the write benchmarks' HTTP floors (floor-routes.ts).
import { createAuth, LiveHub } from "@minutely/api";
import { databasePoolOf } from "@minutely/db";
import { loadConfigOrExit } from "../apps/server/src/config.ts";
import { createRuntime } from "../apps/server/src/runtime.ts";
import { buildServer } from "../apps/server/src/server.ts";
import { registerDashboardRoutes } from "./dashboard-routes.ts";
import { registerFloorRoutes } from "./floor-routes.ts";

const config = loadConfigOrExit("api");
const { ports } = createRuntime(config);
const auth = createAuth({
  db: ports.db,
  secret: config.sessionSecret,
  baseUrl: config.publicUrl,
  trustedOrigins: config.trustedOrigins,
  secureCookies: config.secureCookies,
});
// Live usage as main.ts sets it up: one LISTEN connection, the limits of the configuration.
const live = await LiveHub.listen({ connectionString: config.databaseUrl, limits: config.live });
const app = await buildServer({ config, auth, ...ports, live });
const pool = databasePoolOf(ports.db);
if (!pool) throw new Error("the API's database client has no pg pool (createPrismaClient makes one)");
await registerDashboardRoutes(app, { auth, ports, pool, sessionSecret: config.sessionSecret });
await registerFloorRoutes(app, {
  pool,
  meteringToken: config.meteringApiToken,
  periodStart: () => new Date(ports.clock.now().getTime() - 10 * 24 * 3600 * 1000),
});
await app.listen({ host: config.host, port: config.port });
// Ctrl+C (or the profiler's SIGINT) ends the process normally, so `--cpu-prof` writes its profile.
process.once("SIGINT", () => {
  void app.close().finally(() => process.exit(0));
});
