import type { Ports } from "../context.ts";
import { stripeTasks } from "../services/subscriptions/stripe-webhooks.ts";
import { meteringTasks } from "./metering-tasks.ts";

/** What a background task receives besides its payload. */
export interface TaskContext {
  jobId: string;
  attempt: number;
}

export type TaskHandler = (payload: unknown, context: TaskContext) => Promise<void>;

/**
 * Every background task by name. Tasks are idempotent: the queue delivers at least once and retries
 * failures with backoff, so running a task twice must change nothing the second time.
 */
export function createTaskList(ports: Ports): Record<string, TaskHandler> {
  return {
    ...meteringTasks(ports),
    ...stripeTasks(ports),
  };
}
