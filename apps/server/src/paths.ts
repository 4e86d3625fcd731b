import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The monorepo root. This module runs from apps/server/src (tsx) or is bundled into apps/server/dist (pnpm build);
 * both are two levels below apps/, so the same relative path works for either.
 */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Where `pnpm build` writes the customer SPA, the admin SPA and where the migrations live. */
export const DEFAULT_WEB_DIST_DIR = join(REPO_ROOT, "apps/web/dist");
export const DEFAULT_ADMIN_DIST_DIR = join(REPO_ROOT, "apps/admin/dist");
export const DEFAULT_MIGRATIONS_DIR = join(REPO_ROOT, "packages/db/prisma/migrations");
