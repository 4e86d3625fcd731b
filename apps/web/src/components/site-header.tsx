// The customer app's header. From 1024 px wide the links, the email (from 1280 px) and Sign out fit on one
// line; narrower screens show the brand and a Menu button, a disclosure (aria-expanded, aria-controls) that
// opens the same links in a column. Escape closes it and gives focus back to the button; choosing a link,
// any other navigation, a click outside or tabbing past its end closes it too.
import type { AppRouter } from "@minutely/api";
import { Button, cn, Link, signOut, useIntentMutation, useNavigate, usePathname } from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import { afterAuthChange } from "../lib/auth-navigation.ts";
import { queryClient, setShownAccount, trpc } from "../lib/trpc.ts";

type MembershipList = inferRouterOutputs<AppRouter>["memberships"]["list"];

export const MAIN_ID = "main";
const MENU_ID = "main-menu";

const NAV = [
  { to: "/", label: "Dashboard", exact: true },
  { to: "/packages", label: "Subscription & Packages", exact: false },
  { to: "/billing", label: "Billing", exact: false, roles: ["owner", "admin", "billing"] },
  { to: "/api-keys", label: "API keys", exact: false, roles: ["owner", "admin"] },
  { to: "/usage", label: "Usage", exact: false },
  { to: "/analytics", label: "Analytics", exact: false },
  { to: "/agents", label: "Agents", exact: false },
  { to: "/integration", label: "Integration", exact: false },
  { to: "/team", label: "Team", exact: false },
] as const satisfies readonly { to: string; label: string; exact: boolean; roles?: readonly string[] }[];

/** A link shown to every role, or to the roles the server's role table gives its page (permissions.ts). */
function visibleTo(item: (typeof NAV)[number], role: string | null | undefined): boolean {
  return !("roles" in item) || (role != null && (item.roles as readonly string[]).includes(role));
}

/**
 * The accounts the user belongs to, when more than one: choosing another makes this session act in it
 * (other tabs and devices keep theirs) and every cached answer is dropped.
 */
function AccountSwitcher({ memberships }: { memberships: MembershipList }) {
  const navigate = useNavigate();
  const switchTo = useIntentMutation(
    trpc.memberships.switch.mutationOptions({
      onSuccess: async () => {
        await queryClient.resetQueries();
        await navigate({ to: "/" });
      },
    }),
  );
  const list = memberships;
  const active = list.find((m) => m.active)?.accountId ?? "";
  return (
    <select
      aria-label="Account"
      title={switchTo.error?.message ?? "Switch account"}
      className="min-w-0 max-w-56 flex-1 truncate rounded-md border border-slate-300 bg-white px-2 py-1 text-sm lg:max-w-44 lg:flex-none"
      value={active}
      disabled={switchTo.isPending}
      onChange={(event) => switchTo.mutate({ accountId: event.target.value })}
    >
      {list.map((m) => (
        <option key={m.accountId} value={m.accountId}>
          {m.accountName} ({m.role})
        </option>
      ))}
    </select>
  );
}

const navLink =
  "block rounded-md px-2 py-2 text-sm whitespace-nowrap text-slate-600 hover:bg-slate-100 hover:text-slate-900 lg:px-0 lg:py-1 lg:hover:bg-transparent [&.active]:font-semibold [&.active]:text-slate-900";

function MenuIcon({ open }: { open: boolean }) {
  return (
    <svg viewBox="0 0 20 20" className="size-5" aria-hidden fill="none" stroke="currentColor" strokeWidth={2}>
      {open ? <path d="M5 5l10 10M15 5L5 15" /> : <path d="M3 5h14M3 10h14M3 15h14" />}
    </svg>
  );
}

export function SiteHeader() {
  const me = useQuery(trpc.auth.me.queryOptions());
  const memberships = useQuery({ ...trpc.memberships.list.queryOptions(), enabled: Boolean(me.data) });
  // The account this tab shows: what its requests name (lib/trpc.ts), so a change made in a tab another tab
  // switched away from is refused rather than made in the other account.
  setShownAccount(memberships.data?.find((m) => m.active)?.accountId ?? null);
  const several = (memberships.data?.length ?? 0) > 1 ? memberships.data : undefined;
  const navigate = useNavigate();
  const pathname = usePathname();
  // The menu is open on the page it was opened on: any navigation closes it, without an effect.
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === pathname;
  const navRef = useRef<HTMLElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);

  // A click or tap outside the header closes the menu (focus stays where the click put it).
  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      if (!navRef.current?.contains(event.target as Node)) setOpenOn(null);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [open]);

  const close = (focusButton: boolean) => {
    setOpenOn(null);
    if (focusButton) buttonRef.current?.focus();
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape" && open) {
      event.stopPropagation();
      close(true);
    }
  };
  /** A link chosen in the open menu: the menu closes, so focus moves on to the page it leads to. */
  const onNavigate = () => {
    if (!open) return;
    setOpenOn(null);
    document.getElementById(MAIN_ID)?.focus();
  };

  return (
    <header className="border-b border-slate-200 bg-white">
      <nav
        ref={navRef}
        aria-label="Main"
        onKeyDown={onKeyDown}
        onBlur={(event) => {
          // Tabbing past the menu's last item (to the page) closes it.
          const next = event.relatedTarget as Node | null;
          if (open && next && !navRef.current?.contains(next)) setOpenOn(null);
        }}
        className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 lg:flex-nowrap"
      >
        <Link to="/" className="text-lg font-bold whitespace-nowrap text-brand-700" onClick={onNavigate}>
          Minutely
        </Link>
        {me.data ? (
          <>
            <button
              ref={buttonRef}
              type="button"
              aria-expanded={open}
              aria-controls={MENU_ID}
              onClick={() => setOpenOn(open ? null : pathname)}
              className="ml-auto inline-flex items-center gap-2 rounded-md px-3 py-2 text-sm font-medium text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50 lg:hidden"
            >
              <MenuIcon open={open} />
              Menu
            </button>
            <div
              id={MENU_ID}
              className={cn(
                open ? "flex" : "hidden",
                "w-full flex-col gap-2 border-t border-slate-200 pt-2",
                "lg:flex lg:w-auto lg:min-w-0 lg:flex-1 lg:flex-row lg:items-center lg:gap-6 lg:border-0 lg:pt-0",
              )}
            >
              <ul className="flex flex-col lg:flex-row lg:items-center lg:gap-5">
                {NAV.filter((item) => visibleTo(item, me.data?.user.accountRole)).map((item) => (
                  <li key={item.to}>
                    <Link
                      to={item.to}
                      activeOptions={{ exact: item.exact }}
                      className={navLink}
                      onClick={onNavigate}
                    >
                      {item.label}
                    </Link>
                  </li>
                ))}
              </ul>
              <div className="flex min-w-0 items-center justify-between gap-3 border-t border-slate-200 pt-2 pl-2 lg:ml-auto lg:border-0 lg:pt-0 lg:pl-0">
                {/* With several accounts the switcher takes the address's place (the account page shows it). */}
                {several ? (
                  <AccountSwitcher memberships={several} />
                ) : (
                  // In the menu a long address wraps; in the one-line header it is cut short (whole on
                  // hover). The address leads to the account page (sessions, password).
                  <Link
                    to="/account"
                    onClick={onNavigate}
                    className="min-w-0 flex-1 text-sm break-all text-slate-500 underline-offset-2 hover:underline lg:hidden lg:max-w-56 lg:flex-none lg:truncate xl:inline"
                    title={`${me.data.user.email}: your account, sessions and password`}
                  >
                    {me.data.user.email}
                  </Link>
                )}
                <Button
                  variant="ghost"
                  className="shrink-0 whitespace-nowrap"
                  onClick={async () => {
                    await signOut();
                    await afterAuthChange(navigate, "/sign-in");
                  }}
                >
                  Sign out
                </Button>
              </div>
            </div>
          </>
        ) : null}
      </nav>
    </header>
  );
}
