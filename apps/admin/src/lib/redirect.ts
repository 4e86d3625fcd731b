/** Only same-app paths are followed after sign-in (no open redirects). */
export function safeRedirect(target: string | undefined): string {
  return target?.startsWith("/") && !target.startsWith("//") ? target : "/";
}
