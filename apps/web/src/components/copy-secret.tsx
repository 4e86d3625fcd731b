// A one-time secret with a Copy button. The Clipboard API needs a secure context and permission; where it is
// missing or refused, the text is selected and copied with execCommand, and where that fails too the key
// stays selected with a hint to press Ctrl+C / ⌘C. The outcome is always said next to the button.
import { Button } from "@minutely/ui";
import { useRef, useState } from "react";

type Copied = "idle" | "copied" | "manual";

async function copyText(text: string, field: HTMLInputElement | null): Promise<Copied> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return "copied";
    }
  } catch {
    // Refused (no permission, not focused): the fallback below.
  }
  field?.focus();
  field?.select();
  try {
    if (document.execCommand("copy")) return "copied";
  } catch {
    // Not supported: the key stays selected.
  }
  return "manual";
}

export function CopySecret({ value, label }: { value: string; label: string }) {
  const field = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<Copied>("idle");
  return (
    <div className="mt-2">
      <div className="flex flex-wrap items-center gap-2">
        <input
          ref={field}
          readOnly
          value={value}
          aria-label={label}
          data-testid="new-api-key"
          onFocus={(e) => e.currentTarget.select()}
          className="min-w-0 flex-1 rounded bg-white p-2 font-mono text-xs text-slate-900 ring-1 ring-emerald-200"
        />
        <Button
          variant="secondary"
          onClick={async () => setState(await copyText(value, field.current))}
          aria-describedby="copy-secret-status"
        >
          {state === "copied" ? "Copied" : "Copy"}
        </Button>
      </div>
      <p id="copy-secret-status" role="status" aria-live="polite" className="mt-1 min-h-5 text-xs">
        {state === "copied"
          ? "Copied to the clipboard."
          : state === "manual"
            ? "Your browser did not allow copying: the key is selected, press Ctrl+C (⌘C on a Mac)."
            : ""}
      </p>
    </div>
  );
}
