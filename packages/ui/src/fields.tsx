import {
  forwardRef,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from "react";
import { cn } from "./cn.ts";
import { controlClassName, FieldMessage as Message, useFieldIds } from "./form.tsx";

export interface SelectFieldProps extends SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  options: readonly { value: string; label: string }[];
}

/** A labelled native select with its validation message wired to aria-describedby. */
export const SelectField = forwardRef<HTMLSelectElement, SelectFieldProps>(function SelectField(
  { label, error, hint, options, className, id, ...props },
  ref,
) {
  const { controlId: selectId, messageId, aria } = useFieldIds(id, error, hint);
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={selectId} className="text-sm font-medium text-slate-700">
        {label}
      </label>
      <select
        ref={ref}
        id={selectId}
        {...aria}
        className={controlClassName(
          error,
          "bg-white disabled:bg-slate-50 disabled:text-slate-500",
          className,
        )}
        {...props}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      <Message id={messageId} error={error} hint={hint} />
    </div>
  );
});

export interface CheckboxFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "type"> {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
}

/** A checkbox with its label to the right and an optional hint or error below it. */
export const CheckboxField = forwardRef<HTMLInputElement, CheckboxFieldProps>(function CheckboxField(
  { label, error, hint, className, id, ...props },
  ref,
) {
  const { controlId: inputId, messageId, aria } = useFieldIds(id, error, hint);
  return (
    <div className={cn("flex items-start gap-3", className)}>
      <input
        ref={ref}
        id={inputId}
        type="checkbox"
        {...aria}
        className="mt-0.5 size-4 shrink-0 rounded border-slate-300 accent-brand-600"
        {...props}
      />
      <div className="flex flex-col gap-0.5">
        <label htmlFor={inputId} className="text-sm font-medium text-slate-700">
          {label}
        </label>
        <Message id={messageId} error={error} hint={hint} />
      </div>
    </div>
  );
});

export interface TextAreaFieldProps extends TextareaHTMLAttributes<HTMLTextAreaElement> {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
}

/** A labelled multi-line text input with its validation message wired to aria-describedby. */
export const TextAreaField = forwardRef<HTMLTextAreaElement, TextAreaFieldProps>(function TextAreaField(
  { label, error, hint, className, id, ...props },
  ref,
) {
  const { controlId: inputId, messageId, aria } = useFieldIds(id, error, hint);
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={inputId} className="text-sm font-medium text-slate-700">
        {label}
      </label>
      <textarea ref={ref} id={inputId} {...aria} className={controlClassName(error, className)} {...props} />
      <Message id={messageId} error={error} hint={hint} />
    </div>
  );
});
