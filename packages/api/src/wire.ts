// What the tRPC routers answer, serialized in superjson's wire format (the SPAs deserialize it with
// superjson) without superjson's generic walk: answers are plain objects, arrays, strings, numbers, booleans,
// null, Dates and undefined, and superjson spent about 0.27 ms on a dashboard answer that JSON.stringify
// writes in 0.06 (5 % of the API's CPU on `dashboard.get`). Anything else (a Map, a bigint, NaN, -0, an
// invalid Date, an object seen twice, a key with a dot or a backslash or one superjson guards against, a class
// instance, a bare Date or
// undefined at the top) is handed to superjson itself, so the output is always exactly superjson's.
import superjson, { type SuperJSONResult } from "superjson";

const FALLBACK = Symbol("fallback");
/** Keys superjson refuses (prototype pollution guards): it decides what happens to them. */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);
type Walked = unknown | typeof FALLBACK;

export function serializeAnswer(value: unknown): SuperJSONResult {
  const values: Record<string, [string]> = {};
  let annotated = false;
  const seen = new Set<object>();

  /** `path` is superjson's (keys joined by dots), null at the top. */
  const walk = (v: unknown, path: string | null): Walked => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return v;
    if (typeof v === "number") return Number.isFinite(v) && !Object.is(v, -0) ? v : FALLBACK;
    if (v === undefined) {
      if (path === null) return FALLBACK;
      values[path] = ["undefined"];
      annotated = true;
      return null;
    }
    if (typeof v !== "object") return FALLBACK;
    if (v instanceof Date) {
      if (path === null || Number.isNaN(v.getTime())) return FALLBACK;
      values[path] = ["Date"];
      annotated = true;
      return v.toISOString();
    }
    if (seen.has(v)) return FALLBACK;
    seen.add(v);
    if (Array.isArray(v)) {
      const out: unknown[] = new Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const walked = walk(v[i], path === null ? String(i) : `${path}.${i}`);
        if (walked === FALLBACK) return FALLBACK;
        out[i] = walked;
      }
      return out;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return FALLBACK;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      if (key.includes(".") || key.includes("\\") || UNSAFE_KEYS.has(key)) return FALLBACK;
      const walked = walk((v as Record<string, unknown>)[key], path === null ? key : `${path}.${key}`);
      if (walked === FALLBACK) return FALLBACK;
      out[key] = walked;
    }
    return out;
  };

  const json = walk(value, null);
  if (json === FALLBACK) return superjson.serialize(value);
  return annotated ? ({ json, meta: { values, v: 1 } } as SuperJSONResult) : ({ json } as SuperJSONResult);
}

/** The routers' transformer: inputs as superjson reads them, answers written by `serializeAnswer`. */
export const wireTransformer = {
  input: superjson,
  output: { serialize: serializeAnswer, deserialize: superjson.deserialize.bind(superjson) },
};
