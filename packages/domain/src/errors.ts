/**
 * Base class for rule violations raised by the domain package.
 *
 * `code` is a stable, machine-readable identifier (SCREAMING_SNAKE_CASE) that callers can
 * map to HTTP statuses or UI messages; `message` is a human-readable explanation.
 */
export class DomainError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = "DomainError";
    this.code = code;
  }
}

/** Type guard for {@link DomainError}, optionally narrowed to a specific code. */
export function isDomainError(value: unknown, code?: string): value is DomainError {
  return value instanceof DomainError && (code === undefined || value.code === code);
}
