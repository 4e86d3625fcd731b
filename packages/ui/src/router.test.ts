import { describe, expect, it } from "vitest";
import { buildHref, isActivePath, parseSearch, stringifySearch } from "./router.tsx";

describe("search parameters, read and written as TanStack Router did", () => {
  it("reads numbers, booleans and JSON as such, anything else as the string", () => {
    expect(parseSearch("?page=2&q=acme&on=true&off=false&n=null&s=%22123%22&o=%7B%22a%22%3A1%7D&x=")).toEqual(
      {
        page: 2,
        q: "acme",
        on: true,
        off: false,
        n: null,
        s: "123",
        o: { a: 1 },
        x: "",
      },
    );
    // Not JSON: as written (a leading zero, a broken quote, a path).
    expect(parseSearch("a=007&b=%22open&redirect=%2Fcustomers%3Fq%3Dacme")).toEqual({
      a: "007",
      b: '"open',
      redirect: "/customers?q=acme",
    });
    expect(parseSearch("tag=a&tag=b&tag=3")).toEqual({ tag: ["a", "b", 3] });
    expect(parseSearch("")).toEqual({});
  });

  it("reads keys named like Object's own members as any other key, and never changes the prototype", () => {
    expect(parseSearch("constructor=1&toString=x&hasOwnProperty=true&valueOf=a&valueOf=b")).toEqual({
      constructor: 1,
      toString: "x",
      hasOwnProperty: true,
      valueOf: ["a", "b"],
    });
    for (const search of [
      "__proto__=x",
      "__proto__=%7B%22redirect%22%3A%22%2F%2Fevil%22%7D",
      "__proto__=a&__proto__=b&page=2",
    ]) {
      const result = parseSearch(search);
      expect(Object.getPrototypeOf(result), search).toBe(Object.prototype);
      // No page reads __proto__: it is left out, so no copy of the search can set a prototype with it.
      expect(Object.keys(result), search).toEqual(search.includes("page") ? ["page"] : []);
      expect("redirect" in result, search).toBe(false);
    }
    expect(parseSearch("o=%7B%22__proto__%22%3A%7B%22a%22%3A1%7D%7D").o).toEqual(
      JSON.parse('{"__proto__":{"a":1}}'),
    );
  });

  it("writes strings that would read back as something else quoted, and leaves undefined out", () => {
    expect(stringifySearch({ page: 2, q: "acme", id: "123", t: "true", skip: undefined })).toBe(
      "?page=2&q=acme&id=%22123%22&t=%22true%22",
    );
    expect(stringifySearch({ redirect: "/usage?x=1" })).toBe("?redirect=%2Fusage%3Fx%3D1");
    expect(stringifySearch({})).toBe("");
    expect(stringifySearch({ skip: undefined })).toBe("");
  });

  it("reads back what it writes", () => {
    const search = { q: "42", page: 3, status: "past_due", on: false, note: 'say "hi"', list: [1, "a"] };
    expect(parseSearch(stringifySearch(search))).toEqual(search);
  });
});

describe("buildHref", () => {
  it("fills in params (encoded) and appends the search", () => {
    expect(buildHref("/packages/:id", { id: "a b/c" })).toBe("/packages/a%20b%2Fc");
    expect(buildHref("/customers", undefined, { q: "acme", page: 2 })).toBe("/customers?q=acme&page=2");
    expect(buildHref("/", undefined, {})).toBe("/");
  });

  it("refuses a path whose param is missing", () => {
    expect(() => buildHref("/webhooks/:eventId", {})).toThrow(/eventId/);
  });
});

describe("isActivePath", () => {
  const at = (path: string, search = {}) => ({ path, search });
  it("matches the path or one below it at a segment boundary, or only the path when exact", () => {
    expect(isActivePath(at("/packages/7"), { path: "/packages" })).toBe(true);
    expect(isActivePath(at("/packages"), { path: "/packages" })).toBe(true);
    expect(isActivePath(at("/packages-old"), { path: "/packages" })).toBe(false);
    expect(isActivePath(at("/packages/7"), { path: "/packages" }, true)).toBe(false);
    expect(isActivePath(at("/packages/"), { path: "/packages" }, true)).toBe(true);
    // "/" is active on the home page only.
    expect(isActivePath(at("/usage"), { path: "/" })).toBe(false);
    expect(isActivePath(at("/"), { path: "/" })).toBe(true);
  });

  it("needs the search values the link names", () => {
    const here = at("/audit", { entityType: "account", entityId: "a1", from: "2026-01-01" });
    expect(isActivePath(here, { path: "/audit", search: { entityType: "account" } })).toBe(true);
    expect(isActivePath(here, { path: "/audit", search: { entityType: "package" } })).toBe(false);
    expect(isActivePath(at("/customers", { page: 2 }), { path: "/customers", search: { page: 2 } })).toBe(
      true,
    );
  });
});
