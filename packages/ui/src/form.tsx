import { forwardRef, type InputHTMLAttributes, type ReactNode, useId } from "react";
import { cn } from "./cn.ts";

/** The validation message (or hint) under a field; its id is what the control's aria-describedby names. */
export function FieldMessage({
  id,
  error,
  hint,
}: {
  id: string;
  error?: string | undefined;
  hint?: ReactNode;
}) {
  if (error) {
    return (
      <p id={id} className="text-sm text-red-700">
        {error}
      </p>
    );
  }
  if (hint) {
    return (
      <p id={id} className="text-xs text-slate-500">
        {hint}
      </p>
    );
  }
  return null;
}

/** Ids and ARIA attributes that tie a control to its label and its message. */
export function useFieldIds(id: string | undefined, error: string | undefined, hint: ReactNode) {
  const generated = useId();
  const controlId = id ?? generated;
  const messageId = `${controlId}-message`;
  return {
    controlId,
    messageId,
    aria: {
      "aria-invalid": error ? true : undefined,
      "aria-describedby": error || hint ? messageId : undefined,
    },
  };
}

/** The look of text-like controls (input, textarea, select), red when invalid. */
export function controlClassName(error: string | undefined, ...extra: (string | undefined)[]): string {
  return cn(
    "rounded-md border px-3 py-2 text-sm shadow-sm focus:border-brand-500",
    error ? "border-red-400" : "border-slate-300",
    ...extra,
  );
}

export interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
}

/** A labelled input with its validation message wired to aria-describedby. */
export const Field = forwardRef<HTMLInputElement, FieldProps>(function Field(
  { label, error, hint, className, id, ...props },
  ref,
) {
  const { controlId, messageId, aria } = useFieldIds(id, error, hint);
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={controlId} className="text-sm font-medium text-slate-700">
        {label}
      </label>
      <input ref={ref} id={controlId} {...aria} className={controlClassName(error, className)} {...props} />
      <FieldMessage id={messageId} error={error} hint={hint} />
    </div>
  );
});
