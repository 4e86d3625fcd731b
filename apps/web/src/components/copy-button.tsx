// A Copy button that says what it did: "Copied" when the text reached the clipboard, or, where the browser
// offers no clipboard (an insecure origin, a refused permission), the text selected on the page with the
// keys to copy it. The message is in a live region, so screen readers hear it too.
import { Button } from "@minutely/ui";
import { useEffect, useRef, useState } from "react";

type CopyState = "idle" | "copied" | "manual";

/** The pre-clipboard-API way: a selected, off-screen text area and the browser's copy command. */
function copyWithSelection(text: string): boolean {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.top = "-1000px";
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/** Selects the shown text, so the customer can copy it with the keyboard. */
function selectElement(id: string): void {
  const element = document.getElementById(id);
  const selection = window.getSelection();
  if (!element || !selection) return;
  selection.removeAllRanges();
  const range = document.createRange();
  range.selectNodeContents(element);
  selection.addRange(range);
}

export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission, not focused): try the older way below.
  }
  return copyWithSelection(text);
}

export function CopyButton({
  text,
  label,
  sourceId,
}: {
  text: string;
  /** What is copied, for the button's accessible name ("Copy the account id"). */
  label: string;
  /** The element showing the text: selected when nothing could be copied. */
  sourceId: string;
}) {
  const [state, setState] = useState<CopyState>("idle");
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <span className="inline-flex flex-wrap items-center gap-2">
      <Button
        variant="secondary"
        className="px-3 py-1"
        aria-label={`Copy ${label}`}
        onClick={async () => {
          clearTimeout(timer.current);
          if (await copyText(text)) {
            setState("copied");
            timer.current = setTimeout(() => setState("idle"), 4000);
          } else {
            selectElement(sourceId);
            setState("manual");
          }
        }}
      >
        Copy
      </Button>
      <span role="status" className="text-sm text-slate-600">
        {state === "copied" ? <span className="font-medium text-emerald-700">Copied</span> : null}
        {state === "manual"
          ? "Your browser did not let the page copy it: the text is selected, press Ctrl+C (⌘C on a Mac)."
          : null}
      </span>
    </span>
  );
}
