import { z } from "zod";
import { newId } from "../ids.ts";

export const faultRuleInput = z.object({
  method: z.string().toUpperCase().optional(),
  /** A path prefix (`/v1/subscriptions`), or a regular expression when it starts with `^` or `regex` is true. */
  path: z.string().min(1),
  regex: z.boolean().default(false),
  status: z.number().int().min(400).max(599).default(500),
  /** How many matching requests fail; afterwards the rule is spent. */
  count: z.number().int().min(1).default(1),
  /** `error`: Stripe error envelope; `timeout`: never answer (until `timeoutMs`); `reset`: drop the socket. */
  kind: z.enum(["error", "timeout", "reset"]).default("error"),
  /** `before`: the request is not executed; `after`: it is executed and committed, then the response is lost. */
  phase: z.enum(["before", "after"]).default("before"),
  timeoutMs: z.number().int().min(0).max(600_000).default(30_000),
});

export type FaultRuleInput = z.input<typeof faultRuleInput>;

export interface FaultRule extends z.output<typeof faultRuleInput> {
  id: string;
  remaining: number;
  hits: number;
}

/** Fault injection for reliability tests: matching API requests fail the configured way. */
export class Faults {
  private rules: FaultRule[] = [];

  add(input: unknown): FaultRule {
    const parsed = faultRuleInput.parse(input);
    const rule: FaultRule = { ...parsed, id: newId("fault", 12), remaining: parsed.count, hits: 0 };
    this.rules.push(rule);
    return rule;
  }

  list(): FaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  clear(): void {
    this.rules = [];
  }

  /** Finds and consumes the first live rule matching the request. */
  take(method: string, path: string, phase: "before" | "after"): FaultRule | undefined {
    const rule = this.rules.find(
      (r) =>
        r.remaining > 0 && r.phase === phase && (!r.method || r.method === method) && pathMatches(r, path),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    rule.hits += 1;
    return { ...rule };
  }
}

function pathMatches(rule: FaultRule, path: string): boolean {
  if (rule.regex || rule.path.startsWith("^")) {
    try {
      return new RegExp(rule.path).test(path);
    } catch {
      return false;
    }
  }
  return path.startsWith(rule.path);
}
