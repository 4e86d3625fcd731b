import type { Database, Prisma } from "@minutely/db";

/**
 * A database handle: the client, or an interactive transaction (so that a service's writes, its advisory
 * locks and the jobs it enqueues commit together).
 */
export type Db = Database | Prisma.TransactionClient;
