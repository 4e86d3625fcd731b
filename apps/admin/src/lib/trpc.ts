import type { AdminRouter } from "@minutely/api";
import { createTrpc } from "@minutely/ui";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";

export type AdminOutputs = inferRouterOutputs<AdminRouter>;
export type AdminInputs = inferRouterInputs<AdminRouter>;
/** A package as the admin list returns it: every field, its Stripe prices and subscriber counts. */
export type AdminPackage = AdminOutputs["packages"]["list"][number];
export type PackageInput = AdminInputs["packages"]["create"];

export const { queryClient, trpc, client } = createTrpc<AdminRouter>("/trpc/admin");
