// The last line of defence of the API and worker processes against a PostgreSQL restart. node-postgres
// emits a connection's "terminating connection" error as an 'error' event, and a library holding such a
// connection without a listener at that moment (graphile-worker's, while a runner is being replaced) turns
// it into an uncaught exception that would take the whole process down. Errors that only say the database
// is unreachable are logged and survived: the connection is dead and discarded, the pools reconnect, and
// requests answer 503 until the database is back. Anything else still ends the process, as it should.
import { isDatabaseUnavailable } from "@minutely/db";

export interface CrashGuardLog {
  warn(object: object, message: string): void;
  fatal(object: object, message: string): void;
}

/** What to do with an uncaught exception or unhandled rejection: survive it, or exit with code 1. */
export function handleUncaught(
  error: unknown,
  log: CrashGuardLog,
  exit: (code: number) => void,
): "survived" | "exit" {
  if (isDatabaseUnavailable(error)) {
    log.warn(
      { err: error },
      "a database connection failed outside any request (PostgreSQL restarting?); continuing",
    );
    return "survived";
  }
  log.fatal({ err: error }, "uncaught error; exiting");
  exit(1);
  return "exit";
}

export function installCrashGuard(log: CrashGuardLog): void {
  const exit = (code: number) => process.exit(code);
  process.on("uncaughtException", (error) => handleUncaught(error, log, exit));
  process.on("unhandledRejection", (reason) => handleUncaught(reason, log, exit));
}
