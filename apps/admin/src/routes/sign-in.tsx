import { SignInForm, safeRedirect, signIn } from "@minutely/ui";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useDocumentTitle } from "../lib/document-title.ts";
import { queryClient } from "../lib/trpc.ts";

/** Loaded on demand: the sign-in form (react-hook-form and zod) stays out of the first route. */
export function SignInPage() {
  useDocumentTitle("Sign in");
  const navigate = useNavigate();
  const search = useSearch({ from: "/sign-in" });
  return (
    <SignInForm
      title="Admin sign in"
      onSubmit={async (values) => {
        await signIn(values);
        await queryClient.resetQueries();
        const target = new URL(safeRedirect(search.redirect), window.location.origin);
        await navigate({ to: target.pathname, search: Object.fromEntries(target.searchParams) });
      }}
    />
  );
}
