// Sign-in and sign-up pages, loaded on demand (their forms bring zod and react-hook-form, which the
// dashboard does not need).
import { SignInForm, SignUpForm, signIn, signUp, useDocumentTitle } from "@minutely/ui";
import { Link, useNavigate, useSearch } from "@tanstack/react-router";
import { afterAuthChange } from "../lib/auth-navigation.ts";

export function SignInPage() {
  useDocumentTitle("Sign in");
  const navigate = useNavigate();
  const search = useSearch({ from: "/sign-in" });
  return (
    <SignInForm
      onSubmit={async (values) => {
        await signIn(values);
        await afterAuthChange(navigate, search.redirect);
      }}
      footer={
        <p className="text-center text-sm text-slate-600">
          New to Minutely?{" "}
          <Link to="/sign-up" search={search} className="font-medium text-brand-700 underline">
            Create an account
          </Link>
        </p>
      }
    />
  );
}

export function SignUpPage() {
  useDocumentTitle("Create your account");
  const navigate = useNavigate();
  const search = useSearch({ from: "/sign-up" });
  return (
    <SignUpForm
      onSubmit={async (values) => {
        await signUp(values);
        await afterAuthChange(navigate, search.redirect);
      }}
      footer={
        <p className="text-center text-sm text-slate-600">
          Already have an account?{" "}
          <Link to="/sign-in" search={search} className="font-medium text-brand-700 underline">
            Sign in
          </Link>
        </p>
      }
    />
  );
}
