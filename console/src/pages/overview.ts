// Overview: the last 30 days' funnel, daily trends, rates against their healthy ranges, failures by
// WhatsApp error code, the number's tier and quality, open alerts with what to do.
import { get, ApiError } from "../api";
import { chart, PALETTE } from "../charts";
import { t, type Key } from "../i18n";
import { h, section, table, errorBox, loading, pct, num, healthClass, badge, when, notAvailable } from "../ui";
import { whatsappError } from "../whatsapp";
import type { Page } from "../router";

type Counts = Record<string, number> & { failed_by_code?: Record<string, number> };
interface Health {
  rate: number | null;
  status: string;
  healthy: string;
  sample: number;
}
interface Daily {
  from: string;
  to: string;
  totals: Counts & { rates: Record<string, number | null> };
  health: Record<string, Health>;
  days: (Counts & { day: string; rates: Record<string, number | null> })[];
}

export const FUNNEL: [string, Key][] = [
  ["sent", "metric.sent"],
  ["delivered", "metric.delivered"],
  ["read", "metric.read"],
  ["replied", "metric.replied"],
  ["clicked", "metric.clicked"],
  ["opted_out", "metric.optedOut"],
];

/** Where each count's customers can be listed (the customers API's filters). */
function drill(metric: string): string | null {
  if (metric === "opted_out") return "/customers?consent=false";
  if (metric === "sent" || metric === "delivered") return "/customers?consent=true";
  return null;
}

export function funnelChart(title: string, counts: Record<string, number>, id: string): HTMLElement {
  const labels = FUNNEL.map(([, key]) => t(key));
  const values = FUNNEL.map(([m]) => counts[m] ?? 0);
  return chart(
    title,
    { type: "bar", data: { labels, datasets: [{ label: t("metric.count"), data: values, backgroundColor: PALETTE[0] }] }, options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } },
    labels.map((l, i) => `${l}: ${values[i]}`).join(", "),
    id,
  );
}

export function healthTable(health: Record<string, Health>): HTMLElement {
  const rows = Object.entries(health);
  return table(
    t("overview.healthCaption"),
    [
      { label: t("overview.rate"), value: ([k]) => t(`rate.${k}` as Key) },
      { label: t("overview.value"), value: ([, v]) => pct(v.rate), numeric: true },
      { label: t("overview.healthy"), value: ([, v]) => v.healthy },
      { label: t("overview.status"), value: ([, v]) => badge(t(`health.${v.status}` as Key), healthClass(v.status)) },
      { label: t("overview.sample"), value: ([, v]) => num(v.sample), numeric: true },
    ],
    rows,
  );
}

async function optional<T>(path: string): Promise<T | null> {
  try {
    return await get<T>(path);
  } catch (error) {
    if (error instanceof ApiError && (error.notAvailable || error.status === 403)) return null;
    throw error;
  }
}

function findSetting(settings: unknown, names: string[]): unknown {
  if (!settings || typeof settings !== "object") return undefined;
  for (const [k, v] of Object.entries(settings as Record<string, unknown>)) {
    if (names.includes(k) && (typeof v !== "object" || v === null)) return v;
    if (v && typeof v === "object") {
      const inner = findSetting(v, names);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

export const overviewPage: Page = async (main) => {
  main.append(h("h1", { tabindex: "-1" }, t("overview.title")), h("p", { class: "lede" }, t("overview.lede")));
  const status = loading();
  main.append(status);
  let daily: Daily;
  try {
    daily = await get<Daily>("/v1/metrics/daily");
  } catch (error) {
    status.replaceWith(errorBox(error));
    return;
  }
  status.remove();
  const totals = daily.totals;
  const counts = h(
    "ul",
    { class: "counts", "aria-label": t("overview.counts") },
    ...FUNNEL.map(([m, key]) => {
      const target = drill(m);
      const value = h("span", { class: "count-value" }, num(totals[m] ?? 0));
      const label = h("span", { class: "count-label" }, t(key));
      return h("li", { "data-metric": m }, target ? h("a", { href: `/app${target}`, "data-link": true, title: t("overview.drill") }, value, label) : h("span", {}, value, label));
    }),
  );
  main.append(
    section(
      `${t("overview.funnel")} (${daily.from} – ${daily.to})`,
      counts,
      h("p", { class: "help" }, t("overview.uniqueNote")),
      funnelChart(t("overview.funnelChart"), totals, "funnel-chart"),
    ),
  );
  const days = daily.days;
  main.append(
    section(
      t("overview.trends"),
      chart(
        t("overview.trendsChart"),
        {
          type: "line",
          data: {
            labels: days.map((d) => d.day.slice(5)),
            datasets: FUNNEL.slice(0, 5).map(([m, key], i) => ({ label: t(key), data: days.map((d) => d[m] ?? 0), borderColor: PALETTE[i], backgroundColor: PALETTE[i], tension: 0.2 })),
          },
          options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
        },
        t("overview.trendsSummary"),
        "trends-chart",
      ),
    ),
  );
  main.append(section(t("overview.health"), h("p", { class: "help" }, t("overview.healthHelp")), healthTable(daily.health)));
  const failures = Object.entries(totals.failed_by_code ?? {}).sort((a, b) => b[1] - a[1]);
  main.append(
    section(
      t("overview.failures"),
      table(
        t("overview.failuresCaption"),
        [
          { label: t("overview.code"), value: ([c]) => c },
          { label: t("overview.meaning"), value: ([c]) => whatsappError(c).meaning },
          { label: t("common.whatToDo"), value: ([c]) => whatsappError(c).todo },
          { label: t("metric.count"), value: ([, n]) => num(n), numeric: true },
        ],
        failures,
        t("overview.noFailures"),
      ),
    ),
  );
  const accountBox = h("div", {}, loading());
  const alertsBox = h("div", {}, loading());
  main.append(section(t("overview.account"), accountBox), section(t("overview.alerts"), alertsBox));
  const settings = await optional<Record<string, unknown>>("/v1/settings").catch(() => null);
  const tier = findSetting(settings, ["messaging_tier", "tier"]);
  const quality = findSetting(settings, ["quality_rating", "quality"]);
  accountBox.replaceChildren(
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("overview.tier")),
      h("dd", {}, tier !== undefined ? `${num(tier)} ${t("overview.tierUnit")}` : t("overview.notReported")),
      h("dt", {}, t("overview.quality")),
      h("dd", {}, quality !== undefined ? badge(String(quality), String(quality).toLowerCase() === "green" ? "ok" : String(quality).toLowerCase() === "yellow" ? "warn" : "bad") : t("overview.notReported")),
    ),
    settings === null ? notAvailable() : "",
  );
  try {
    const alerts = await get<{ alerts: Record<string, string>[] }>("/v1/alerts?status=open");
    alertsBox.replaceChildren(
      alerts.alerts.length === 0
        ? h("p", { class: "empty" }, t("overview.noAlerts"))
        : h(
            "ul",
            { class: "alerts" },
            ...alerts.alerts.map((a) =>
              h("li", { class: "alert" }, h("p", {}, h("strong", {}, a.title ?? a.kind), ` · ${when(a.opened_at)}`), h("p", {}, a.message ?? ""), h("p", {}, h("strong", {}, t("common.whatToDo")), " ", a.advice ?? "")),
            ),
          ),
    );
  } catch (error) {
    alertsBox.replaceChildren(errorBox(error));
  }
};
