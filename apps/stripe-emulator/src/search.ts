import type Stripe from "stripe";
import { sortNewestFirst } from "./core.ts";
import { invalidRequest } from "./errors.ts";
import type { Params } from "./params.ts";

interface Clause {
  negate: boolean;
  field: string;
  metadataKey: string | null;
  op: ":" | "~" | ">" | "<" | ">=" | "<=";
  value: string;
}

const CLAUSE = /^(-)?([a-z_.]+)(?:\['([^']+)'\])?(:|~|>=|<=|>|<)(?:'([^']*)'|"([^"]*)"|(\S+))$/;

/** Parses the subset of Stripe's search query language the emulator supports. */
export function parseQuery(query: string): { clauses: Clause[]; mode: "AND" | "OR" } {
  const hasOr = / OR /.test(query);
  const hasAnd = / AND /.test(query);
  if (hasOr && hasAnd)
    throw invalidRequest("Mixing AND and OR in one search query is not supported.", "query");
  const parts = query
    .split(hasOr ? / OR / : / AND /)
    .map((part) => part.trim())
    .filter(Boolean);
  const clauses = parts.map((part) => {
    const m = CLAUSE.exec(part);
    if (!m) throw invalidRequest(`Invalid search query clause: ${part}`, "query");
    return {
      negate: m[1] === "-",
      field: m[2] ?? "",
      metadataKey: m[3] ?? null,
      op: (m[4] ?? ":") as Clause["op"],
      value: m[5] ?? m[6] ?? m[7] ?? "",
    };
  });
  return { clauses, mode: hasOr ? "OR" : "AND" };
}

interface Searchable {
  id: string;
  created: number;
  seq: number;
  metadata: Record<string, string> | null;
}

export function searchRecords<T extends Searchable, R>(
  items: T[],
  p: Params,
  url: string,
  field: (item: T, name: string) => string | null | undefined,
  build: (item: T) => R,
): Stripe.ApiSearchResult<R> {
  const { clauses, mode } = parseQuery(p.reqStr("query"));
  const test = (item: T, clause: Clause): boolean => {
    const actual =
      clause.field === "metadata" && clause.metadataKey !== null
        ? (item.metadata?.[clause.metadataKey] ?? null)
        : field(item, clause.field);
    let result: boolean;
    if (actual === undefined || actual === null) result = false;
    else if (clause.op === ":") result = actual === clause.value;
    else if (clause.op === "~") result = actual.toLowerCase().includes(clause.value.toLowerCase());
    else {
      const a = Number(actual);
      const b = Number(clause.value);
      result = clause.op === ">" ? a > b : clause.op === "<" ? a < b : clause.op === ">=" ? a >= b : a <= b;
    }
    return clause.negate ? !result : result;
  };
  const matches = sortNewestFirst(items).filter((item) =>
    mode === "AND" ? clauses.every((c) => test(item, c)) : clauses.some((c) => test(item, c)),
  );
  const limit = p.int("limit") ?? 10;
  const offset = Number.parseInt(p.str("page") ?? "0", 10) || 0;
  const page = matches.slice(offset, offset + limit);
  const hasMore = matches.length > offset + limit;
  return {
    object: "search_result",
    data: page.map(build),
    has_more: hasMore,
    next_page: hasMore ? String(offset + limit) : null,
    url,
    total_count: matches.length,
  };
}
