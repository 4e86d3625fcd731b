import type { Database } from "@minutely/db";
import type { Auth } from "./auth.ts";

/** Demo users for `pnpm dev` only; never created in production mode. */
export const DEMO_USERS = [
  { email: "admin@minutely.dev", password: "minutely-demo", name: "Ada Admin", role: "admin" },
  { email: "customer@minutely.dev", password: "minutely-demo", name: "Casey Customer", role: "user" },
] as const;

/** Creates the demo users through the real sign-up path; idempotent. */
export async function seedDemoUsers(auth: Auth, db: Database): Promise<string[]> {
  const created: string[] = [];
  for (const demo of DEMO_USERS) {
    const existing = await db.user.findUnique({ where: { email: demo.email } });
    if (!existing) {
      await auth.api.signUpEmail({ body: { email: demo.email, password: demo.password, name: demo.name } });
      created.push(demo.email);
    }
    await db.user.update({ where: { email: demo.email }, data: { role: demo.role, emailVerified: true } });
  }
  return created;
}
