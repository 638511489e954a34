// A tiny router over the History API under /app; pages get a scope whose timers stop when the page is left.
import { destroyCharts } from "./charts";

export interface Scope {
  signal: AbortSignal;
  every(ms: number, fn: () => void | Promise<void>): void;
  alive(): boolean;
}

export type Page = (main: HTMLElement, params: Record<string, string>, query: URLSearchParams, scope: Scope) => void | Promise<void>;

interface Route {
  pattern: RegExp;
  names: string[];
  page: Page;
}

const routes: Route[] = [];
let current: { controller: AbortController; timers: number[] } | null = null;
const BASE = import.meta.env.BASE_URL.replace(/\/$/, ""); // "/app"

export function route(path: string, page: Page): void {
  const names: string[] = [];
  const pattern = new RegExp(
    "^" + path.replace(/:([a-z_]+)/g, (_, name: string) => (names.push(name), "([^/]+)")).replace(/\/$/, "") + "/?$",
  );
  routes.push({ pattern, names, page });
}

export function href(path: string): string {
  return BASE + path;
}

export function navigate(path: string, replace = false): void {
  const target = path.startsWith(BASE) ? path : href(path);
  if (replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  window.dispatchEvent(new Event("engage:navigate"));
}

export function currentPath(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return path || "/";
}

export async function render(main: HTMLElement, fallback: Page): Promise<void> {
  if (current) {
    current.controller.abort();
    current.timers.forEach((t) => window.clearInterval(t));
  }
  destroyCharts();
  const controller = new AbortController();
  const state = { controller, timers: [] as number[] };
  current = state;
  const scope: Scope = {
    signal: controller.signal,
    alive: () => !controller.signal.aborted,
    every(ms, fn) {
      let busy = false;
      state.timers.push(
        window.setInterval(async () => {
          if (busy || controller.signal.aborted) return;
          busy = true;
          try {
            await fn();
          } finally {
            busy = false;
          }
        }, ms),
      );
    },
  };
  const path = currentPath();
  main.replaceChildren();
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (m) {
      const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      await r.page(main, params, new URLSearchParams(location.search), scope);
      return;
    }
  }
  await fallback(main, {}, new URLSearchParams(location.search), scope);
}
