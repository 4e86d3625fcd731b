// `pnpm db:seed`: creates the default packages in an empty catalog of DATABASE_URL (idempotent).
import { createPrismaClient } from "../src/client.ts";
import { seedCatalog } from "../src/seed.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set.");
  process.exit(2);
}
const db = createPrismaClient(url, { poolSize: 1 });
try {
  const { created } = await seedCatalog(db);
  console.log(created > 0 ? `created ${created} packages` : "catalog already has packages; left as is");
} finally {
  await db.$disconnect();
}
