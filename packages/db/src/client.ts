import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export interface CreatePrismaClientOptions {
  /** Maximum connections in this process's pool. */
  poolSize?: number;
}

/** The one way the application gets a database client: Prisma 7 over node-postgres. */
export function createPrismaClient(
  connectionString: string,
  options: CreatePrismaClientOptions = {},
): PrismaClient {
  const adapter = new PrismaPg({
    connectionString,
    max: options.poolSize ?? 10,
    // Keep a restart of PostgreSQL survivable: idle connections are recycled instead of hanging around dead.
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  return new PrismaClient({ adapter });
}

export type Database = PrismaClient;
