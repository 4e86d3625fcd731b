import { defineConfig } from "prisma/config";

// Commands that never connect (generate, validate) still need a URL: fall back to a placeholder.
// Migrations are applied by `pnpm db:migrate` (scripts/migrate.ts), which works offline; the same
// folder works with `prisma migrate deploy` wherever Prisma's native schema engine is available.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    url: process.env.DATABASE_URL ?? "postgresql://placeholder@localhost:5432/placeholder",
  },
});
