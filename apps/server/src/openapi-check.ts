// Checks real responses against the OpenAPI document the server publishes (used by tests).
import { z } from "zod";

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>
  >;
}

/** Fastify path (/api/x/:id) to OpenAPI path (/api/x/{id}). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]\w*)/g, "{$1}");
}

/** Throws a readable error unless `body` matches the documented response of the operation. */
export function assertMatchesOpenApi(
  doc: OpenApiDocument,
  method: string,
  path: string,
  status: number,
  body: unknown,
): void {
  const operation = doc.paths[openApiPath(path)]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${path} is not in the OpenAPI document`);
  const response = operation.responses?.[String(status)];
  if (!response) throw new Error(`${method} ${path} does not document status ${status}`);
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`${method} ${path} ${status} has no JSON schema`);
  const result = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]).safeParse(body);
  if (!result.success) {
    throw new Error(
      `${method} ${path} ${status} does not match its OpenAPI schema:\n${z.prettifyError(result.error)}`,
    );
  }
}
