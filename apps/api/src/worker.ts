import { createTaskList, type Ports } from "@minutely/api";
import type { FastifyBaseLogger } from "fastify";
import { Logger, type Runner, run, type Task } from "graphile-worker";

/** Runs the background tasks from the shared PostgreSQL queue until stopped. */
export async function startWorker(options: {
  connectionString: string;
  concurrency: number;
  ports: Ports;
  log: FastifyBaseLogger;
}): Promise<Runner> {
  const handlers = createTaskList(options.ports);
  const taskList: Record<string, Task> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    taskList[name] = async (payload, helpers) => {
      await handler(payload, { jobId: helpers.job.id, attempt: helpers.job.attempts });
    };
  }
  const logger = new Logger((scope) => (level, message, meta) => {
    const line = { scope, ...meta };
    if (level === "error") options.log.error(line, message);
    else if (level === "warning") options.log.warn(line, message);
    else options.log.debug(line, message);
  });
  return await run({
    connectionString: options.connectionString,
    concurrency: options.concurrency,
    taskList,
    logger,
    noHandleSignals: true,
    pollInterval: 1000,
  });
}
