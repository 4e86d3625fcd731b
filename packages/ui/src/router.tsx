// The SPAs' routing on wouter (a ~2 KiB router): a const table of paths per app gives typed links and
// navigation (a typo in a path fails `tsc`), each path's search parameters through the app's validator,
// pages loaded on demand and preloaded when a link to them is hovered or focused, active links marked
// (`aria-current="page"`, class `active`), a guard that sends visitors elsewhere before a page shows, the
// window scrolled to the top on navigation, and an error state in the page's place when a page fails.
//
// Search parameters are read and written as TanStack Router (the apps' previous router) did, so every
// address stays as it was: each value is JSON when it parses as JSON (`?page=2` is the number 2,
// `?q=%22123%22` the string "123"), and a string that would parse as JSON is written quoted.
import {
  type AnchorHTMLAttributes,
  Component,
  type ComponentType,
  createContext,
  type ErrorInfo,
  type MouseEvent,
  type ReactNode,
  type Ref,
  Suspense,
  use,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { matchRoute, useLocation, useRouter } from "wouter";
import { useSearch as useRawSearch } from "wouter/use-browser-location";
import { ErrorState } from "./feedback.tsx";

// ---------------------------------------------------------------------------------------------------------
// Search parameters

/** The raw search of an address: every key once, or an array when repeated. */
export type RawSearch = Record<string, unknown>;

// JSON can start with whitespace, ", [, {, -, a digit, or fa/nu/tr (false, null, true).
const JSON_START = /^(?:\s|["[{\d-]|fa|nu|tr)/;

function toValue(text: string): unknown {
  if (!text) return "";
  if (text === "false") return false;
  if (text === "true") return true;
  return +text * 0 === 0 && `${+text}` === text ? +text : text;
}

/**
 * `?a=1&b=x` -> `{ a: 1, b: "x" }`: numbers, booleans and JSON as such, anything else as the string. A key
 * named `__proto__` is left out.
 */
export function parseSearch(search: string): RawSearch {
  const result: RawSearch = {};
  for (const [key, text] of new URLSearchParams(search)) {
    // No page reads it, and setting it would change the object's prototype: left out.
    if (key === "__proto__") continue;
    const value = toValue(text);
    // Own values only: `?constructor=1` is not Object's constructor followed by 1.
    const previous = Object.hasOwn(result, key) ? result[key] : undefined;
    result[key] =
      previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  for (const [key, value] of Object.entries(result)) {
    if (typeof value !== "string" || !JSON_START.test(value)) continue;
    try {
      result[key] = JSON.parse(value);
    } catch {
      // not JSON: the string as it is
    }
  }
  return result;
}

function searchValue(value: unknown): string {
  if (value && typeof value === "object") return JSON.stringify(value);
  if (typeof value === "string" && JSON_START.test(value)) {
    try {
      JSON.parse(value);
      return JSON.stringify(value); // "123" would read back as a number: quoted
    } catch {
      return value;
    }
  }
  return String(value);
}

/** The inverse of `parseSearch`: `""` when empty, else `?...`; undefined values are left out. */
export function stringifySearch(search: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(search)) {
    if (value !== undefined) params.set(key, searchValue(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

// ---------------------------------------------------------------------------------------------------------
// Pages loaded on demand

/** A page component whose code loads on first render (or earlier, through `preload`). */
export type LazyPage<P> = ((props: P) => ReactNode) & { preload: () => Promise<unknown> };

/**
 * `lazyPage(() => import("./routes/usage.tsx"), "UsagePage")`: the named export, loaded when first rendered
 * or preloaded. Once loaded it renders at once (no suspense on later visits). A failed load is tried again
 * on the next render or preload.
 */
export function lazyPage<M, K extends keyof M>(
  load: () => Promise<M>,
  name: K,
): M[K] extends ComponentType<infer P> ? LazyPage<P> : never {
  type P = M[K] extends ComponentType<infer Q> ? Q : never;
  let loaded: ComponentType<P> | undefined;
  let loading: Promise<ComponentType<P>> | undefined;
  const preload = () => {
    loading ??= load().then(
      (module) => {
        loaded = module[name] as ComponentType<P>;
        return loaded;
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };
  // biome-ignore lint/correctness/noComponentHookFactories: like React.lazy, one component per page, made once at module level
  function Page(props: P) {
    const Loaded = loaded ?? use(preload());
    return <Loaded {...(props as P & object)} />;
  }
  return Object.assign(Page, { preload }) as never;
}

// ---------------------------------------------------------------------------------------------------------
// Typed paths

type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** `"/packages/:id"` -> `{ id: string }`. */
export type ParamsOf<P extends string> = { [K in ParamNames<P>]: string };

/** What a path of the table may have: its search's validator, and its page when that loads on demand. */
export interface RouteSpec {
  /** The raw search -> the page's search; invalid values fall back (or it throws: the error state). */
  search?: (raw: RawSearch) => object;
  /** Preloaded when a link to the path is hovered or focused. */
  page?: { preload: () => Promise<unknown> };
}

export type RouteTable = Record<string, RouteSpec>;

export type SearchOf<R extends RouteTable, P extends keyof R> = R[P]["search"] extends (
  raw: RawSearch,
) => infer S
  ? S & object
  : Record<string, never>;

/** Where to go: a path of the table, its params when it has any, its search. */
export type Target<R extends RouteTable, P extends keyof R & string> = {
  to: P;
  search?: SearchOf<R, P>;
} & ([ParamNames<P>] extends [never] ? { params?: undefined } : { params: ParamsOf<P> });

/** A path of the table with its params filled in and its search: `/packages/7?x=1` (without the base). */
export function buildHref(to: string, params?: Record<string, string>, search?: object): string {
  const path = to.replace(/:(\w+)/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new Error(`the path ${to} needs the parameter "${name}"`);
    return encodeURIComponent(value);
  });
  return path + (search ? stringifySearch(search) : "");
}

/** A path without its trailing slash ("/" stays). */
const trimSlash = (path: string) => (path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path);

/**
 * Whether a link to `target` is the current page: the same path (`exact`) or the path or one below it, and
 * every search value the link names equal to the current one.
 */
export function isActivePath(
  current: { path: string; search: RawSearch },
  target: { path: string; search?: object | undefined },
  exact = false,
): boolean {
  const here = trimSlash(current.path);
  const there = trimSlash(target.path);
  const pathMatches = exact
    ? here === there
    : here.startsWith(there) && (here.length === there.length || here[there.length] === "/");
  if (!pathMatches) return false;
  return Object.entries(target.search ?? {}).every(
    ([key, value]) => value === undefined || JSON.stringify(current.search[key]) === JSON.stringify(value),
  );
}

/** The table's paths in the order they are tried: static paths before those with params. */
function matchOrder(paths: string[]): string[] {
  return [...paths.filter((p) => !p.includes(":")), ...paths.filter((p) => p.includes(":"))];
}

const isPlainLeftClick = (event: MouseEvent<HTMLAnchorElement>) =>
  event.button === 0 &&
  !(event.metaKey || event.altKey || event.ctrlKey || event.shiftKey) &&
  (!event.currentTarget.target || event.currentTarget.target === "_self");

/** How long a pointer rests on a link before its page is preloaded (TanStack Router's default). */
const PRELOAD_DELAY_MS = 50;

export type NavigateOptions<R extends RouteTable, P extends keyof R & string> = Target<R, P> & {
  replace?: boolean | undefined;
};

export type LinkProps<R extends RouteTable, P extends keyof R & string> = Target<R, P> &
  Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> & {
    replace?: boolean | undefined;
    /** Active only on exactly this path (otherwise also on the paths below it). */
    activeOptions?: { exact?: boolean | undefined } | undefined;
    ref?: Ref<HTMLAnchorElement> | undefined;
  };

/**
 * Each app names its table of paths here, which types every link and navigation of the app:
 * `declare module "@minutely/ui" { interface Register { routes: typeof ROUTES } }`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by each app (declaration merging)
export interface Register {}

/** The app's table of paths (any table where no app registered one, as in this package). */
export type AppRoutes = Register extends { routes: infer R extends RouteTable } ? R : RouteTable;
/** A path of the app's table. */
export type AppPath = keyof AppRoutes & string;

const RoutesContext = createContext<{ routes: RouteTable; order: string[] }>({ routes: {}, order: [] });

/** Gives the app's table of paths to the links, navigation and matching below it. */
export function Routes({ table, children }: { table: AppRoutes; children: ReactNode }) {
  const value = useMemo(() => ({ routes: table, order: matchOrder(Object.keys(table)) }), [table]);
  return <RoutesContext value={value}>{children}</RoutesContext>;
}

const hrefOf = (target: { to: string; params?: Record<string, string> | undefined; search?: object }) =>
  buildHref(target.to, target.params, target.search);

/** A path of the table with its params and search, relative to the base (for a redirect's answer). */
export function href<P extends AppPath>(target: Target<AppRoutes, P>): string {
  return hrefOf(target as never);
}

function useNavigateTo() {
  const router = useRouter();
  const [, navigate] = useLocation();
  return (to: string, replace = false) => {
    // The same address again adds no history entry.
    const same = router.base + to === window.location.pathname + window.location.search;
    navigate(to, { replace: replace || same });
  };
}

/**
 * Navigation from code: `await navigate({ to: "/billing" })`; `navigate({ href })` takes an address
 * already checked (a same-app path with its search, as `safeRedirect` gives).
 */
export function useNavigate() {
  const go = useNavigateTo();
  return async <P extends AppPath>(
    options: NavigateOptions<AppRoutes, P> | { href: string; replace?: boolean | undefined },
  ) => {
    if ("href" in options) go(options.href, options.replace);
    else go(hrefOf(options as never), options.replace);
  };
}

/** Sends the visitor on when rendered (replacing the address in the history when `replace`). */
export function Navigate<P extends AppPath>(props: NavigateOptions<AppRoutes, P>) {
  const go = useNavigateTo();
  const target = hrefOf(props as never);
  const done = useRef(false);
  useLayoutEffect(() => {
    if (done.current) return;
    done.current = true;
    go(target, props.replace);
  });
  return null;
}

/**
 * A link to a path of the table: a real `<a href>` (open in a new tab works), navigating in the app on a
 * plain click, preloading the page's code on hover, focus or touch, marked while its page is current
 * (`aria-current="page"`, class `active`).
 */
export function Link<P extends AppPath>(props: LinkProps<AppRoutes, P>) {
  const {
    to,
    params,
    search,
    replace,
    activeOptions,
    className,
    onClick,
    onMouseEnter,
    onMouseLeave,
    onFocus,
    onTouchStart,
    ref,
    ...rest
  } = props;
  const { routes } = use(RoutesContext);
  const router = useRouter();
  const [path] = useLocation();
  const currentSearch = useRawSearch();
  const go = useNavigateTo();
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const pathParams = params as Record<string, string> | undefined;
  const target = buildHref(to, pathParams, search);
  const active = isActivePath(
    { path, search: parseSearch(currentSearch) },
    { path: buildHref(to, pathParams), search },
    activeOptions?.exact,
  );
  const preload = () => {
    routes[to]?.page?.preload().catch(() => {
      // the click loads it again, and shows the error if it fails then
    });
  };
  return (
    <a
      {...rest}
      ref={ref}
      href={router.base + target}
      className={active ? (className ? `${className} active` : "active") : className}
      {...(active ? { "aria-current": "page" as const, "data-status": "active" } : {})}
      onClick={(event) => {
        onClick?.(event);
        if (event.defaultPrevented || !isPlainLeftClick(event)) return;
        event.preventDefault();
        go(target, replace);
      }}
      onMouseEnter={(event) => {
        onMouseEnter?.(event);
        clearTimeout(timer.current);
        timer.current = setTimeout(preload, PRELOAD_DELAY_MS);
      }}
      onMouseLeave={(event) => {
        onMouseLeave?.(event);
        clearTimeout(timer.current);
      }}
      onFocus={(event) => {
        onFocus?.(event);
        preload();
      }}
      onTouchStart={(event) => {
        onTouchStart?.(event);
        preload();
      }}
    />
  );
}

/** The validated search of a path (the page's own: `useSearch("/customers")`). */
export function useSearch<P extends AppPath>(path: P): SearchOf<AppRoutes, P> {
  const { routes } = use(RoutesContext);
  const raw = useRawSearch();
  const validate = routes[path]?.search;
  return useMemo(() => (validate ? validate(parseSearch(raw)) : {}), [raw, validate]) as SearchOf<
    AppRoutes,
    P
  >;
}

/** The path of the table the address matches, with its params; null when none does (not found). */
export function useMatch(): { path: AppPath; params: Record<string, string> } | null {
  const { order } = use(RoutesContext);
  const router = useRouter();
  const [location] = useLocation();
  for (const path of order) {
    const [matches, params] = matchRoute(router.parser, path, location);
    if (matches) return { path: path as AppPath, params: params as Record<string, string> };
  }
  return null;
}

/** Where the visitor is, relative to the base, with the search: what a sign-in sends them back to. */
export function useHere(): string {
  const [path] = useLocation();
  return path + useRawSearch();
}

/** The current path, relative to the base, without the search. */
export function usePathname(): string {
  return useLocation()[0];
}

// ---------------------------------------------------------------------------------------------------------
// Page frame: scrolling, guard, errors, loading

/** Scrolls the window to the top when the address changes (not to a #fragment), as the previous router did. */
export function useScrollToTopOnNavigation(): void {
  const [path] = useLocation();
  const search = useRawSearch();
  const first = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each change of the address
  useLayoutEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (!window.location.hash) window.scrollTo(0, 0);
  }, [path, search]);
}

/**
 * Renders its children only for visitors `check` lets through. `check` runs when the guard appears and on
 * each change of the address (a session that ended meanwhile is noticed on the next navigation, so `check`
 * must ask the server, not a cache); it returns
 * null to let through, or the address (relative to the base) to send the visitor to instead, which replaces
 * the current one in the history. Until the first answer, `pending` shows. A failing check is the page's
 * error.
 */
export function Guard({
  check,
  pending = null,
  children,
}: {
  check: () => Promise<string | null>;
  pending?: ReactNode;
  children: ReactNode;
}) {
  const [path, navigate] = useLocation();
  const search = useRawSearch();
  const [state, setState] = useState<{ allowed: boolean; error?: unknown }>({ allowed: false });
  const checkRef = useRef(check);
  checkRef.current = check;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the check runs again on each navigation
  useEffect(() => {
    let current = true;
    checkRef.current().then(
      (redirect) => {
        if (!current) return;
        if (redirect === null) setState({ allowed: true });
        else navigate(redirect, { replace: true });
      },
      (error: unknown) => {
        if (current) setState({ allowed: false, error });
      },
    );
    return () => {
      current = false;
    };
  }, [path, search, navigate]);
  if (state.error !== undefined) throw state.error;
  return state.allowed ? children : pending;
}

/** Shows `children` only after `ms`: a loading state that does not flash when loading is quick. */
export function AfterDelay({ ms, children }: { ms: number; children: ReactNode }) {
  const [shown, setShown] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setShown(true), ms);
    return () => clearTimeout(timer);
  }, [ms]);
  return shown ? children : null;
}

interface BoundaryProps {
  /** The address: an error is forgotten when it changes. */
  resetKey: string;
  children: ReactNode;
}

/** A page that fails to render (its code did not load, its search is invalid): an error in its place. */
class PageErrorBoundary extends Component<BoundaryProps, { error: unknown; key: string }> {
  override state = { error: undefined as unknown, key: this.props.resetKey };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  static getDerivedStateFromProps(props: BoundaryProps, state: { error: unknown; key: string }) {
    return props.resetKey === state.key ? null : { error: undefined, key: props.resetKey };
  }
  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error(error, info.componentStack);
  }
  override render() {
    const { error } = this.state;
    if (error === undefined) return this.props.children;
    const message = error instanceof Error ? error.message : String(error);
    return <ErrorState error={{ message }} onRetry={() => window.location.reload()} />;
  }
}

/**
 * The frame of the current page: its errors in its place, and `pending` while its code (or anything it
 * suspends on) loads.
 */
export function PageFrame({ pending = null, children }: { pending?: ReactNode; children: ReactNode }) {
  const [path] = useLocation();
  const search = useRawSearch();
  return (
    <PageErrorBoundary resetKey={path + search}>
      <Suspense fallback={pending}>{children}</Suspense>
    </PageErrorBoundary>
  );
}
