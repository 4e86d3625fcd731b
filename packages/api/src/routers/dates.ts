import { z } from "zod";

/**
 * The instants a procedure accepts: from 1970 to the end of year 9999 (what a Date and PostgreSQL's
 * timestamptz both hold and a human means). Anything else, year 0 or ±275,000 years, is a 400 naming the
 * field, never a database error.
 */
export const EARLIEST_INSTANT = new Date("1970-01-01T00:00:00.000Z");
export const LATEST_INSTANT = new Date("9999-12-31T23:59:59.999Z");

export const ZInstantSchema = z
  .date({ error: "Use a date" })
  .min(EARLIEST_INSTANT, "Use a date from 1970 on")
  .max(LATEST_INSTANT, "Use a date before the year 10000");

/** A calendar day, "2026-11-27", read as UTC, from 1970-01-01 on. */
export const ZDaySchema = z.iso
  .date("Use a date such as 2026-11-27")
  .refine((day) => day >= "1970-01-01", "Use a date from 1970 on");
