import { zodResolver } from "@hookform/resolvers/zod";
import { useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { AuthError } from "./auth-client.ts";
import { Button } from "./button.tsx";
import { Card } from "./card.tsx";
import { ErrorSummary, problemsOf } from "./error-summary.tsx";
import { Banner } from "./feedback.tsx";
import { Field } from "./form.tsx";

const email = z.string().trim().min(1, "Enter your email address.").email("Enter a valid email address.");

const SignInSchema = z.object({
  email,
  password: z.string().min(1, "Enter your password."),
});

const SignUpSchema = z.object({
  name: z.string().trim().min(1, "Enter your name.").max(120, "Use at most 120 characters."),
  email,
  password: z.string().min(8, "Use at least 8 characters.").max(128, "Use at most 128 characters."),
});

const ForgotPasswordSchema = z.object({ email });
const ResetPasswordSchema = z.object({
  newPassword: z.string().min(8, "Use at least 8 characters.").max(128, "Use at most 128 characters."),
});

const SIGN_IN_FIELDS = [
  { name: "email", id: "sign-in-email", label: "Email" },
  { name: "password", id: "sign-in-password", label: "Password" },
];
const SIGN_UP_FIELDS = [
  { name: "name", id: "sign-up-name", label: "Name" },
  { name: "email", id: "sign-up-email", label: "Email" },
  { name: "password", id: "sign-up-password", label: "Password" },
];

export type SignInValues = z.infer<typeof SignInSchema>;
export type ForgotPasswordValues = z.infer<typeof ForgotPasswordSchema>;
export type ResetPasswordValues = z.infer<typeof ResetPasswordSchema>;
export type SignUpValues = z.infer<typeof SignUpSchema>;

function messageOf(error: unknown): string {
  if (error instanceof AuthError) {
    if (error.status === 429) return error.message || "Too many attempts. Wait a minute and try again.";
    return error.message;
  }
  return "Could not reach Minutely. Check your connection and try again.";
}

function AuthCard({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <div className="mx-auto mt-12 w-full max-w-sm">
      <Card>
        <h1 className="mb-4 text-xl font-bold">{title}</h1>
        {children}
      </Card>
    </div>
  );
}

export function SignInForm({
  title = "Sign in",
  onSubmit,
  footer,
}: {
  title?: string;
  onSubmit: (values: SignInValues) => Promise<void>;
  footer?: React.ReactNode;
}) {
  const [error, setError] = useState<string | null>(null);
  const form = useForm<SignInValues>({
    resolver: zodResolver(SignInSchema),
    defaultValues: { email: "", password: "" },
  });
  // A double click submits once: the second lands before the disabled button is rendered.
  const busy = useRef(false);
  const submit = form.handleSubmit(async (values) => {
    if (busy.current) return;
    busy.current = true;
    setError(null);
    try {
      await onSubmit(values);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      busy.current = false;
    }
  });
  return (
    <AuthCard title={title}>
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {error ? <Banner tone="danger">{error}</Banner> : null}
        <ErrorSummary problems={problemsOf(form.formState.errors, SIGN_IN_FIELDS)} />
        <Field
          id="sign-in-email"
          label="Email"
          type="email"
          autoComplete="email"
          {...form.register("email")}
          error={form.formState.errors.email?.message}
        />
        <Field
          id="sign-in-password"
          label="Password"
          type="password"
          autoComplete="current-password"
          {...form.register("password")}
          error={form.formState.errors.password?.message}
        />
        <Button type="submit" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? "Signing in…" : "Sign in"}
        </Button>
        {footer}
      </form>
    </AuthCard>
  );
}

export function SignUpForm({
  onSubmit,
  footer,
}: {
  onSubmit: (values: SignUpValues) => Promise<void>;
  footer?: React.ReactNode;
}) {
  const [error, setError] = useState<string | null>(null);
  const form = useForm<SignUpValues>({
    resolver: zodResolver(SignUpSchema),
    defaultValues: { name: "", email: "", password: "" },
  });
  // A double click submits once: the second lands before the disabled button is rendered.
  const busy = useRef(false);
  const submit = form.handleSubmit(async (values) => {
    if (busy.current) return;
    busy.current = true;
    setError(null);
    try {
      await onSubmit(values);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      busy.current = false;
    }
  });
  return (
    <AuthCard title="Create your account">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {error ? <Banner tone="danger">{error}</Banner> : null}
        <ErrorSummary problems={problemsOf(form.formState.errors, SIGN_UP_FIELDS)} />
        <Field
          id="sign-up-name"
          label="Name"
          autoComplete="name"
          {...form.register("name")}
          error={form.formState.errors.name?.message}
        />
        <Field
          id="sign-up-email"
          label="Email"
          type="email"
          autoComplete="email"
          {...form.register("email")}
          error={form.formState.errors.email?.message}
        />
        <Field
          id="sign-up-password"
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters."
          {...form.register("password")}
          error={form.formState.errors.password?.message}
        />
        <Button type="submit" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? "Creating account…" : "Create account"}
        </Button>
        {footer}
      </form>
    </AuthCard>
  );
}

/** Asks for a reset link. Says the same whether or not the address is registered (so does the server). */
export function ForgotPasswordForm({
  onSubmit,
  footer,
}: {
  onSubmit: (values: ForgotPasswordValues) => Promise<void>;
  footer?: React.ReactNode;
}) {
  const [error, setError] = useState<string | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useForm<ForgotPasswordValues>({
    resolver: zodResolver(ForgotPasswordSchema),
    defaultValues: { email: "" },
  });
  const busy = useRef(false);
  const submit = form.handleSubmit(async (values) => {
    if (busy.current) return;
    busy.current = true;
    setError(null);
    try {
      await onSubmit(values);
      setSentTo(values.email);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      busy.current = false;
    }
  });
  return (
    <AuthCard title="Reset your password">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {error ? <Banner tone="danger">{error}</Banner> : null}
        {sentTo ? (
          <Banner tone="success">
            If {sentTo} has a Minutely sign-in, a link to choose a new password is on its way. It works once,
            for one hour.
          </Banner>
        ) : null}
        <ErrorSummary
          problems={problemsOf(form.formState.errors, [
            { name: "email", id: "forgot-email", label: "Email" },
          ])}
        />
        <Field
          id="forgot-email"
          label="Email"
          type="email"
          autoComplete="email"
          {...form.register("email")}
          error={form.formState.errors.email?.message}
        />
        <Button type="submit" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? "Sending…" : "Send reset link"}
        </Button>
        {footer}
      </form>
    </AuthCard>
  );
}

/** Chooses a new password with a reset link's token. */
export function ResetPasswordForm({
  onSubmit,
  footer,
}: {
  onSubmit: (values: ResetPasswordValues) => Promise<void>;
  footer?: React.ReactNode;
}) {
  const [error, setError] = useState<string | null>(null);
  const form = useForm<ResetPasswordValues>({
    resolver: zodResolver(ResetPasswordSchema),
    defaultValues: { newPassword: "" },
  });
  const busy = useRef(false);
  const submit = form.handleSubmit(async (values) => {
    if (busy.current) return;
    busy.current = true;
    setError(null);
    try {
      await onSubmit(values);
    } catch (e) {
      setError(
        e instanceof AuthError && e.code === "INVALID_TOKEN"
          ? "This reset link was already used or has expired. Ask for a new one."
          : messageOf(e),
      );
    } finally {
      busy.current = false;
    }
  });
  return (
    <AuthCard title="Choose a new password">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        {error ? <Banner tone="danger">{error}</Banner> : null}
        <ErrorSummary
          problems={problemsOf(form.formState.errors, [
            { name: "newPassword", id: "reset-password", label: "New password" },
          ])}
        />
        <Field
          id="reset-password"
          label="New password"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters. Setting it signs you out on every other device."
          {...form.register("newPassword")}
          error={form.formState.errors.newPassword?.message}
        />
        <Button type="submit" disabled={form.formState.isSubmitting}>
          {form.formState.isSubmitting ? "Saving…" : "Set new password"}
        </Button>
        {footer}
      </form>
    </AuthCard>
  );
}
