import { useDocumentTitle as useTitle } from "@minutely/ui";

/** Names the page in the browser tab and for screen readers announcing the navigation. */
export function useDocumentTitle(title: string): void {
  useTitle(title, "Minutely Admin");
}
