export {
  AuthError,
  changePassword,
  requestPasswordReset,
  resetPassword,
  safeRedirect,
  sendVerificationEmail,
  signIn,
  signOut,
  signUp,
  verifyEmail,
} from "./auth-client.ts";
export {
  ForgotPasswordForm,
  ResetPasswordForm,
  SignInForm,
  type SignInValues,
  SignUpForm,
  type SignUpValues,
} from "./auth-forms.tsx";
export { Button, type ButtonProps } from "./button.tsx";
export { Badge, Card } from "./card.tsx";
export { cn } from "./cn.ts";
export { ConfirmDialog, type ConfirmDialogProps, Dialog, type DialogProps } from "./dialog.tsx";
export { useDocumentTitle } from "./document-title.ts";
export { EmulatorBanner } from "./emulator-banner.tsx";
export { ErrorSummary, type FieldProblem, problemsOf } from "./error-summary.tsx";
export { Banner, EmptyState, ErrorState, Spinner } from "./feedback.tsx";
export {
  CheckboxField,
  type CheckboxFieldProps,
  SelectField,
  type SelectFieldProps,
  TextAreaField,
  type TextAreaFieldProps,
} from "./fields.tsx";
export { Field, type FieldProps } from "./form.tsx";
export { type IntentInput, newRequestKey, useIntentMutation } from "./intent.ts";
export {
  DEFAULT_LIVE_POLL_MS,
  type LiveHandlers,
  type LiveMessageBase,
  type LiveMode,
  type LiveOptions,
  LiveStatus,
  LiveUpdates,
  useLiveMode,
  useLiveUpdates,
} from "./live.tsx";
export {
  AfterDelay,
  type AppPath,
  type AppRoutes,
  buildHref,
  Guard,
  href,
  isActivePath,
  type LazyPage,
  Link,
  type LinkProps,
  lazyPage,
  Navigate,
  type NavigateOptions,
  PageFrame,
  type ParamsOf,
  parseSearch,
  type RawSearch,
  type Register,
  type RouteSpec,
  Routes,
  type RouteTable,
  type SearchOf,
  stringifySearch,
  type Target,
  useHere,
  useMatch,
  useNavigate,
  usePathname,
  useScrollToTopOnNavigation,
  useSearch,
} from "./router.tsx";
export { ScrollArea } from "./scroll-area.tsx";
export { createQueryClient, createTrpc, httpStatusOf } from "./trpc.ts";
export { fieldErrorsOf, messageOf } from "./trpc-errors.ts";
export { type UsageAlert, UsageAlertList } from "./usage-alerts.tsx";
