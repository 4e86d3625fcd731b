/**
 * Exhaustiveness helpers for `switch` statements over closed unions.
 *
 * Both take a `never` argument, so the compiler rejects the call when a union member is not
 * handled. At runtime (values from JSON, databases or webhooks can lie about their type):
 * - {@link assertNever} throws — for programming errors such as an unknown rounding mode;
 * - {@link failClosed} returns the given safe fallback — for decisions such as access checks,
 *   where an unexpected value must deny rather than crash.
 */

export function assertNever(value: never, what = "value"): never {
  throw new Error(`Unexpected ${what}: ${String(value)}`);
}

export function failClosed<T>(_value: never, fallback: T): T {
  return fallback;
}
