import { useEffect } from "react";

/**
 * Names the page in the browser tab, the history and for screen readers announcing the navigation:
 * "Usage · Minutely". Each app passes its own name, so a tab says which app it is.
 */
export function useDocumentTitle(title: string, app = "Minutely"): void {
  useEffect(() => {
    document.title = `${title} · ${app}`;
  }, [title, app]);
}
