// One message carried across a navigation ("Created Scale." on the list after the form saved). It lives in
// memory only: a reload does not bring it back.
export interface Notice {
  tone: "success" | "warning" | "danger";
  title?: string;
  message: string;
}

let pending: Notice | null = null;

export function setFlash(notice: Notice): void {
  pending = notice;
}

/** The message left by the previous page (read it in a state initializer, then clearFlash in an effect). */
export function peekFlash(): Notice | null {
  return pending;
}

export function clearFlash(): void {
  pending = null;
}

/** Ends a message from elsewhere (an upstream error) with exactly one full stop. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
