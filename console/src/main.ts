// The console's shell: sign-in gate, navigation, language switch, and the page routes.
import "./style.css";
import { loadConfig, config } from "./config";
import { completeHostedUi, session, signOut } from "./auth";
import { t, language, setLanguage, LANGUAGES, type Key } from "./i18n";
import { h, clear, errorBox } from "./ui";
import { route, render, navigate, href, currentPath } from "./router";
import { signInPage } from "./pages/signin";
import { overviewPage } from "./pages/overview";
import { customersPage, customerPage } from "./pages/customers";
import { importsPage } from "./pages/imports";
import { segmentsPage } from "./pages/segments";
import { campaignsPage, campaignPage, newCampaignPage } from "./pages/campaigns";
import { journeysPage } from "./pages/journeys";
import { rewardsPage } from "./pages/rewards";
import { tagsPage } from "./pages/tags";
import { settingsPage } from "./pages/settings";

const NAV: [string, Key][] = [
  ["/", "nav.overview"],
  ["/customers", "nav.customers"],
  ["/imports", "nav.imports"],
  ["/segments", "nav.segments"],
  ["/campaigns", "nav.campaigns"],
  ["/journeys", "nav.journeys"],
  ["/rewards", "nav.rewards"],
  ["/tags", "nav.tags"],
  ["/settings", "nav.settings"],
];

route("/", overviewPage);
route("/customers", customersPage);
route("/customers/:ref", customerPage);
route("/imports", importsPage);
route("/segments", segmentsPage);
route("/campaigns", campaignsPage);
route("/campaigns/new", newCampaignPage);
route("/campaigns/:id", campaignPage);
route("/journeys", journeysPage);
route("/rewards", rewardsPage);
route("/tags", tagsPage);
route("/settings", settingsPage);

const root = document.getElementById("app") as HTMLElement;

function notFound(main: HTMLElement): void {
  clear(main, h("h1", { tabindex: "-1" }, t("common.pageNotFound")), h("p", {}, h("a", { href: href("/"), "data-link": true }, t("nav.overview"))));
}

function shell(): HTMLElement {
  const s = session();
  const path = currentPath();
  const nav = h(
    "nav",
    { "aria-label": t("nav.label") },
    h(
      "ul",
      {},
      ...NAV.map(([to, key]) => {
        const active = to === "/" ? path === "/" : path.startsWith(to);
        return h("li", {}, h("a", { href: href(to), "data-link": true, "aria-current": active ? "page" : null }, t(key)));
      }),
    ),
  );
  const lang = h("select", { id: "lang", "aria-label": t("common.language") }, ...LANGUAGES.map((l) => h("option", { value: l, selected: l === language() }, l.toUpperCase())));
  lang.addEventListener("change", () => {
    setLanguage(lang.value as (typeof LANGUAGES)[number]);
    void show();
  });
  const header = h(
    "header",
    { class: "top" },
    h("a", { class: "brand", href: href("/"), "data-link": true }, "Engage"),
    nav,
    h(
      "div",
      { class: "user" },
      h("label", { for: "lang", class: "sr-only" }, t("common.language")),
      lang,
      s ? h("span", { class: "who" }, `${s.name} · ${t(s.role === "admin" ? "role.admin" : "role.marketer")}`) : null,
      s ? h("button", { type: "button", id: "sign-out", onclick: () => signOut() }, t("auth.signOut")) : null,
    ),
  );
  return header;
}

async function show(): Promise<void> {
  document.documentElement.lang = language();
  const main = h("main", { id: "main", tabindex: "-1" });
  const announcer = h("div", { id: "announcer", class: "sr-only", role: "status", "aria-live": "polite" });
  if (!session()) {
    clear(root, main, announcer);
    await signInPage(main);
    document.title = `${t("auth.title")} · Engage`;
    return;
  }
  clear(root, shell(), main, announcer);
  try {
    await render(main, notFound);
  } catch (error) {
    main.append(errorBox(error));
  }
  const heading = main.querySelector("h1");
  document.title = `${heading?.textContent ?? "Engage"} · Engage`;
}

async function navigated(): Promise<void> {
  await show();
  (document.querySelector("main h1") as HTMLElement | null)?.focus();
}

document.addEventListener("click", (event) => {
  const a = (event.target as Element).closest("a[data-link]") as HTMLAnchorElement | null;
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(a.pathname + a.search);
});
window.addEventListener("popstate", () => void navigated());
window.addEventListener("engage:navigate", () => void navigated());
window.addEventListener("engage:signed-out", () => {
  history.replaceState(null, "", href("/"));
  void show();
});

async function boot(): Promise<void> {
  await loadConfig();
  if (currentPath() === "/callback" && config().auth === "cognito") {
    try {
      await completeHostedUi(new URLSearchParams(location.search));
      history.replaceState(null, "", href("/"));
    } catch (error) {
      clear(root, h("main", { id: "main" }, h("h1", {}, t("auth.title")), errorBox(error)));
      return;
    }
  }
  await show();
}

void boot();
