// What a failed tRPC call says, for forms and error banners. Apart from trpc.ts (which the first route
// of each SPA loads) so that these stay in the chunks of the pages that show them.
import { TRPCClientError } from "@trpc/client";

/** The server's per-field messages (`data.fieldErrors`: zod issues and AppErrors naming a field). */
export function fieldErrorsOf(error: unknown): Record<string, string> {
  if (!(error instanceof TRPCClientError)) return {};
  const fieldErrors = (error.data as { fieldErrors?: unknown } | undefined)?.fieldErrors;
  if (typeof fieldErrors !== "object" || fieldErrors === null) return {};
  return Object.fromEntries(
    Object.entries(fieldErrors).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/** A sentence for an error banner: the server's message, or a connection problem. */
export function messageOf(error: unknown): string {
  if (error instanceof TRPCClientError && error.data) {
    // Input validation errors carry per-field messages; their own message is zod's JSON.
    const fields = Object.entries(fieldErrorsOf(error));
    if (fields.length > 0 && (error.data as { code?: string }).code === "BAD_REQUEST") {
      return fields.map(([field, message]) => `${field}: ${message}`).join("; ");
    }
    return error.message;
  }
  return "Could not reach Minutely. Check your connection and try again.";
}
