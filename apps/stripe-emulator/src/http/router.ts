import type { EmulatorCore } from "../core.ts";
import type { Params } from "../params.ts";
import type { ObjectSpec } from "../spec.ts";
import { ROUTE_SPECS } from "./route-specs.ts";

export interface Ctx {
  core: EmulatorCore;
  /** Body parameters for POST, query parameters for GET/DELETE. */
  p: Params;
  /** Path parameters (`:id`). */
  path: Record<string, string>;
  method: string;
  /** Request path without query. */
  url: string;
}

export type Handler = (ctx: Ctx) => unknown;

interface Route {
  method: string;
  regex: RegExp;
  keys: string[];
  handler: Handler;
  spec: ObjectSpec;
  /** `"METHOD /pattern"`, the key of its spec. */
  name: string;
}

/**
 * A tiny path router for `/v1/*` so the server can wrap every API call the same way. Every route has a
 * parameter spec in `route-specs.ts` (`specs`), checked before its handler runs.
 */
export class Router {
  private readonly routes: Route[] = [];
  private readonly specs: Record<string, ObjectSpec>;

  constructor(specs: Record<string, ObjectSpec> = ROUTE_SPECS) {
    this.specs = specs;
  }

  /** `"METHOD /pattern"` of every registered route. */
  names(): string[] {
    return this.routes.map((route) => route.name);
  }

  add(method: string, pattern: string, handler: Handler): this {
    const name = `${method} ${pattern}`;
    const spec = Object.hasOwn(this.specs, name) ? this.specs[name] : undefined;
    if (!spec) throw new Error(`No parameter spec for ${name}: declare it in route-specs.ts`);
    const keys: string[] = [];
    const source = pattern
      .split("/")
      .map((segment) => {
        if (segment.startsWith(":")) {
          keys.push(segment.slice(1));
          return "([^/]+)";
        }
        return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/");
    this.routes.push({ method, regex: new RegExp(`^${source}/?$`), keys, handler, spec, name });
    return this;
  }

  get(pattern: string, handler: Handler): this {
    return this.add("GET", pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.add("POST", pattern, handler);
  }

  del(pattern: string, handler: Handler): this {
    return this.add("DELETE", pattern, handler);
  }

  match(
    method: string,
    path: string,
  ): { handler: Handler; params: Record<string, string>; spec: ObjectSpec; name: string } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.regex.exec(path);
      if (!found) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, index) => {
        params[key] = decodeURIComponent(found[index + 1] ?? "");
      });
      return { handler: route.handler, params, spec: route.spec, name: route.name };
    }
    return undefined;
  }
}
