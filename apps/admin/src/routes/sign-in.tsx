import { SignInForm, safeRedirect, signIn, useNavigate, useSearch } from "@minutely/ui";
import { useDocumentTitle } from "../lib/document-title.ts";
import { queryClient } from "../lib/trpc.ts";

/** Loaded on demand: the sign-in form (react-hook-form and zod) stays out of the first route. */
export function SignInPage() {
  useDocumentTitle("Sign in");
  const navigate = useNavigate();
  const search = useSearch("/sign-in");
  return (
    <SignInForm
      title="Admin sign in"
      onSubmit={async (values) => {
        await signIn(values);
        await queryClient.resetQueries();
        // In place of the sign-in page: Back then does not show the form to someone signed in.
        await navigate({ href: safeRedirect(search.redirect), replace: true });
      }}
    />
  );
}
