// `pnpm db:seed:scale [--accounts 10000] [--events 2000000] [--seed 42]`: fills DATABASE_URL with a large,
// realistic data set for the admin app (see src/seed-scale.ts). Re-running tops up to the numbers given.
// Progress goes to stderr as a plain-text bar; the summary to stdout.
import { createPrismaClient } from "../src/client.ts";
import { seedCatalog } from "../src/seed.ts";
import { type ScalePhase, seedScale } from "../src/seed-scale.ts";

function usage(message?: string): never {
  if (message) console.error(message);
  console.error("usage: pnpm db:seed:scale [--accounts 10000] [--events 2000000] [--seed 42]");
  process.exit(2);
}

function parseArgs(argv: string[]) {
  const values: Record<string, number> = { accounts: 10_000, events: 2_000_000, seed: 42 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") continue;
    if (arg === "--help" || arg === "-h") usage();
    const match = /^--(accounts|events|seed)(?:=(.*))?$/.exec(arg);
    if (!match?.[1]) usage(`Unknown argument: ${arg}`);
    const raw = (match[2] ?? argv[++i] ?? "").replace(/[_,]/g, "");
    if (!/^\d+$/.test(raw)) usage(`--${match[1]} needs a whole number`);
    values[match[1]] = Number(raw);
  }
  if ((values.accounts ?? 0) > 1_000_000) usage("--accounts is at most 1,000,000");
  if ((values.events ?? 0) > 100_000_000) usage("--events is at most 100,000,000");
  return values as { accounts: number; events: number; seed: number };
}

const WIDTH = 30;
const numbers = new Intl.NumberFormat("en-US");
let lastPhase = "";
let lastStep = -1;

/** `[#########                     ] 30% accounts 3,000/10,000`, redrawn in place on a terminal. */
function progress(phase: ScalePhase, done: number, total: number): void {
  const share = total === 0 ? 1 : done / total;
  const filled = Math.round(share * WIDTH);
  const line = `[${"#".repeat(filled)}${" ".repeat(WIDTH - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${phase} ${numbers.format(done)}/${numbers.format(total)}`;
  if (process.stderr.isTTY) {
    process.stderr.write(`\r${line}${done >= total ? "\n" : ""}`);
  } else {
    // Not a terminal (CI, a log file): a line per 10%.
    const step = Math.floor(share * 10);
    if (step !== lastStep || phase !== lastPhase) process.stderr.write(`${line}\n`);
    lastStep = step;
  }
  lastPhase = phase;
}

const args = parseArgs(process.argv.slice(2));
const url = process.env.DATABASE_URL;
if (!url) usage("DATABASE_URL is not set.");
if (process.env.NODE_ENV === "production")
  usage("Refusing to seed a production database (NODE_ENV=production).");

// Bulk inserts of millions of rows run longer than the application's statement and query timeouts.
const db = createPrismaClient(url, { poolSize: 1, statementTimeoutMs: 0, queryTimeoutMs: 0 });
try {
  await seedCatalog(db);
} finally {
  await db.$disconnect();
}
const started = Date.now();
const result = await seedScale(url, { ...args, onProgress: progress });
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  result.accountsCreated === 0 && result.eventsCreated === 0
    ? `Nothing to do: ${numbers.format(result.accountsBefore)} seeded accounts and ${numbers.format(result.eventsBefore)} seeded usage events already exist.`
    : `Seeded ${numbers.format(result.accountsCreated)} accounts (now ${numbers.format(result.accountsBefore + result.accountsCreated)}) ` +
        `and ${numbers.format(result.eventsCreated)} usage events (now ${numbers.format(result.eventsBefore + result.eventsCreated)}), ` +
        `${numbers.format(result.alertsCreated)} usage alerts, in ${seconds} s.`,
);
