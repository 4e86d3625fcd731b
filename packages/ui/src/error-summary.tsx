/** One invalid field of a form: its control's id (the summary links to it), its label and what is wrong. */
export interface FieldProblem {
  id: string;
  label: string;
  message: string;
}

/**
 * The problems of a submitted form, listed above it in a live region (role="alert"), so a screen reader
 * announces them however focus moves; each links to its field. Renders nothing when there are none.
 */
export function ErrorSummary({
  problems,
  title = problems.length === 1 ? "There is a problem" : `There are ${problems.length} problems`,
}: {
  problems: FieldProblem[];
  title?: string;
}) {
  if (problems.length === 0) return null;
  return (
    <div role="alert" className="rounded-lg border border-red-300 bg-red-50 p-3 text-sm text-red-900">
      <p className="font-semibold">{title}</p>
      <ul className="mt-1 list-disc pl-5">
        {problems.map((p) => (
          <li key={p.id}>
            <a
              href={`#${p.id}`}
              className="underline underline-offset-2"
              onClick={(event) => {
                const field = document.getElementById(p.id);
                if (!field) return;
                event.preventDefault();
                field.focus();
              }}
            >
              {p.label}: {p.message}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The problems of a react-hook-form form, in the order of `fields` (the order on screen). */
export function problemsOf(
  errors: Partial<Record<string, { message?: string | undefined } | undefined>>,
  fields: { name: string; id: string; label: string }[],
): FieldProblem[] {
  return fields.flatMap((f) => {
    const message = errors[f.name]?.message;
    return message ? [{ id: f.id, label: f.label, message }] : [];
  });
}
