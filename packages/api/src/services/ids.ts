// Ids of Minutely's records are UUIDs.
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a value can be an id of ours (ids are UUIDs); anything else is unknown without a query. */
export function isUuid(value: string): boolean {
  return UUID_SHAPE.test(value);
}
