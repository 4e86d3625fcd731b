// Sign-in and sign-up pages, loaded on demand (their forms bring zod and react-hook-form, which the
// dashboard does not need).
import {
  AuthError,
  Banner,
  Card,
  ForgotPasswordForm,
  Link,
  ResetPasswordForm,
  requestPasswordReset,
  resetPassword,
  SignInForm,
  SignUpForm,
  Spinner,
  signIn,
  signUp,
  useDocumentTitle,
  useNavigate,
  useSearch,
  verifyEmail,
} from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { afterAuthChange } from "../lib/auth-navigation.ts";
import { queryClient, trpc } from "../lib/trpc.ts";

export function SignInPage() {
  useDocumentTitle("Sign in");
  const navigate = useNavigate();
  const search = useSearch("/sign-in");
  return (
    <SignInForm
      onSubmit={async (values) => {
        await signIn(values);
        await afterAuthChange(navigate, search.redirect);
      }}
      footer={
        <p className="text-center text-sm text-slate-600">
          <Link to="/forgot-password" className="font-medium text-brand-700 underline">
            Forgot your password?
          </Link>
          <br />
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
  const search = useSearch("/sign-up");
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

export function ForgotPasswordPage() {
  useDocumentTitle("Reset your password");
  return (
    <ForgotPasswordForm
      onSubmit={async (values) => {
        await requestPasswordReset(values);
      }}
      footer={
        <p className="text-center text-sm text-slate-600">
          Remembered it?{" "}
          <Link to="/sign-in" className="font-medium text-brand-700 underline">
            Sign in
          </Link>
        </p>
      }
    />
  );
}

export function ResetPasswordPage() {
  useDocumentTitle("Choose a new password");
  const { token } = useSearch("/reset-password");
  const [done, setDone] = useState(false);
  if (!token || done) {
    return (
      <div className="mx-auto mt-12 w-full max-w-sm">
        <Card>
          <h1 className="mb-4 text-xl font-bold">{done ? "Password changed" : "Reset link incomplete"}</h1>
          {done ? (
            <Banner tone="success">
              Your new password is set, and every session that used the old one is signed out.
            </Banner>
          ) : (
            <Banner tone="danger">This link has no reset token. Open the link from the mail again.</Banner>
          )}
          <p className="mt-4 text-center text-sm">
            <Link
              to={done ? "/sign-in" : "/forgot-password"}
              className="font-medium text-brand-700 underline"
            >
              {done ? "Sign in with your new password" : "Ask for a new link"}
            </Link>
          </p>
        </Card>
      </div>
    );
  }
  return (
    <ResetPasswordForm
      onSubmit={async (values) => {
        await resetPassword({ token, newPassword: values.newPassword });
        setDone(true);
      }}
      footer={
        <p className="text-center text-sm text-slate-600">
          <Link to="/forgot-password" className="font-medium text-brand-700 underline">
            Ask for a new link
          </Link>
        </p>
      }
    />
  );
}

export function VerifyEmailPage() {
  useDocumentTitle("Confirm your email address");
  const { token } = useSearch("/verify-email");
  const result = useQuery({
    queryKey: ["verify-email", token],
    queryFn: async () => {
      if (!token) throw new AuthError("This link has no token. Open the link from the mail again.", 400);
      await verifyEmail(token);
      // The layout's "confirm your address" banner reads the viewer: read it again.
      await queryClient.invalidateQueries(trpc.auth.me.queryFilter());
      return true;
    },
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  return (
    <div className="mx-auto mt-12 w-full max-w-sm">
      <Card>
        <h1 className="mb-4 text-xl font-bold">Confirm your email address</h1>
        {result.isPending ? <Spinner label="Confirming…" /> : null}
        {result.isSuccess ? (
          <Banner tone="success">Your email address is confirmed. You can now buy a package.</Banner>
        ) : null}
        {result.isError ? (
          <Banner tone="danger">
            {result.error instanceof AuthError && result.error.code === "TOKEN_EXPIRED"
              ? "This link has expired. Sign in and send a new one from the banner at the top."
              : result.error instanceof AuthError && result.error.code === "INVALID_TOKEN"
                ? "This link is not valid. Open the link from the mail again, or send a new one."
                : result.error.message}
          </Banner>
        ) : null}
        <p className="mt-4 text-center text-sm">
          <Link to="/" className="font-medium text-brand-700 underline">
            Go to the dashboard
          </Link>
        </p>
      </Card>
    </div>
  );
}
