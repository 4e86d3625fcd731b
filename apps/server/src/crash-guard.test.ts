import { describe, expect, it } from "vitest";
import { handleUncaught } from "./crash-guard.ts";

function recorder() {
  const lines: { level: string; message: string }[] = [];
  const exits: number[] = [];
  return {
    lines,
    exits,
    log: {
      warn: (_: object, message: string) => lines.push({ level: "warn", message }),
      fatal: (_: object, message: string) => lines.push({ level: "fatal", message }),
    },
    exit: (code: number) => exits.push(code),
  };
}

describe("handleUncaught", () => {
  it("survives a connection PostgreSQL terminated (57P01, as node-postgres emits it during a restart)", () => {
    const r = recorder();
    const error = Object.assign(new Error("terminating connection due to administrator command"), {
      code: "57P01",
      severity: "FATAL",
    });
    expect(handleUncaught(error, r.log, r.exit)).toBe("survived");
    expect(r.exits).toEqual([]);
    expect(r.lines[0]?.level).toBe("warn");
    expect(handleUncaught(new Error("Connection terminated unexpectedly"), r.log, r.exit)).toBe("survived");
  });

  it("exits on anything else", () => {
    const r = recorder();
    expect(handleUncaught(new TypeError("Cannot read properties of undefined"), r.log, r.exit)).toBe("exit");
    expect(handleUncaught(Object.assign(new Error("duplicate key"), { code: "23505" }), r.log, r.exit)).toBe(
      "exit",
    );
    expect(handleUncaught("a string", r.log, r.exit)).toBe("exit");
    expect(r.exits).toEqual([1, 1, 1]);
    expect(r.lines.every((l) => l.level === "fatal")).toBe(true);
  });
});
