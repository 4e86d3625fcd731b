import { invalidRequest } from "./errors.ts";
import { isRecord } from "./params.ts";

export interface Resolver {
  /** Builds the full object for an id (`cus_...` → customer), or undefined when it is not an object id. */
  byId(id: string): object | undefined;
  /** Fields that Stripe only includes on request (`customer.subscriptions`, `invoice.payments`, ...). */
  includable(owner: Record<string, unknown>, key: string): unknown;
}

const MAX_DEPTH = 4;

/**
 * Applies Stripe's `expand[]` to a rendered response: each dotted path replaces an id string with the
 * object it names; `data.` walks into lists. Unknown paths raise Stripe's error.
 */
export function applyExpand(value: unknown, paths: string[], resolver: Resolver): unknown {
  let result = value;
  for (const path of paths) {
    const segments = path.split(".");
    if (segments.length > MAX_DEPTH) {
      throw invalidRequest(
        `You cannot expand more than ${MAX_DEPTH} levels of a property. Property: ${path}`,
        "expand",
      );
    }
    result = expandSegments(result, segments, resolver, path);
  }
  return result;
}

function expandSegments(value: unknown, segments: string[], resolver: Resolver, path: string): unknown {
  const [head, ...rest] = segments;
  if (head === undefined) return value;
  if (Array.isArray(value)) return value.map((item) => expandSegments(item, segments, resolver, path));
  if (!isRecord(value)) return value;
  let child = value[head];
  if (typeof child === "string") {
    child = resolver.byId(child) ?? child;
  } else if (child === undefined) {
    child = resolver.includable(value, head);
    if (child === undefined) {
      throw invalidRequest(
        `This property cannot be expanded (${head}). You may want to try expanding 'data.${head}' instead.`,
        "expand",
      );
    }
  } else if (Array.isArray(child)) {
    child = child.map((item) => (typeof item === "string" ? (resolver.byId(item) ?? item) : item));
  }
  value[head] = rest.length > 0 ? expandSegments(child, rest, resolver, path) : child;
  return value;
}
