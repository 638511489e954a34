// Journeys: the automations as readable flows (trigger, then each step), enable/disable, per-step stats.
import { get, post } from "../api";
import { t } from "../i18n";
import { h, errorBox, loading, badge, button, num, announce } from "../ui";
import type { Page } from "../router";

type Journey = Record<string, unknown> & { id: string; name?: string; enabled?: boolean; trigger?: unknown; steps?: Record<string, unknown>[]; goal?: unknown };

function words(value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "object") return String(value);
  return Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "object" ? words(v) : String(v)}`)
    .join(", ");
}

function stepLabel(step: Record<string, unknown>): string {
  const { id, kind, type, ...rest } = step;
  return `${String(kind ?? type ?? id ?? "step")} — ${words(rest)}`;
}

export const journeysPage: Page = async (main) => {
  main.append(h("h1", { tabindex: "-1" }, t("journeys.title")), h("p", { class: "lede" }, t("journeys.lede")));
  const box = h("div", {}, loading());
  main.append(box);
  let journeys: Journey[];
  try {
    journeys = (await get<{ journeys: Journey[] }>("/v1/journeys")).journeys ?? [];
  } catch (error) {
    box.replaceChildren(errorBox(error));
    return;
  }
  box.replaceChildren();
  if (journeys.length === 0) box.append(h("p", { class: "empty" }, t("journeys.none")));
  for (const journey of journeys) {
    const stats = h("div", { "aria-live": "polite" });
    const card = h("section", { class: "card journey", "aria-label": journey.name ?? journey.id });
    const draw = (j: Journey) => {
      const steps = (j.steps ?? []) as Record<string, unknown>[];
      card.replaceChildren(
        h("h2", {}, j.name ?? j.id, " ", j.enabled ? badge(t("journeys.enabled"), "ok") : badge(t("journeys.disabled"), "none")),
        h(
          "ol",
          { class: "flow", "aria-label": t("journeys.flow") },
          h("li", { class: "flow-trigger" }, h("strong", {}, t("journeys.trigger")), " ", words(j.trigger)),
          ...steps.map((s, i) => h("li", { class: "flow-step", "data-step": String(s.id ?? i) }, stepLabel(s))),
          j.goal ? h("li", { class: "flow-goal" }, h("strong", {}, t("journeys.goal")), " ", words(j.goal)) : "",
        ),
        button(j.enabled ? t("journeys.disable") : t("journeys.enable"), async () => {
          try {
            const changed = await post<Journey>(`/v1/journeys/${encodeURIComponent(j.id)}/${j.enabled ? "disable" : "enable"}`);
            announce(t("common.done"));
            draw({ ...j, ...changed, enabled: changed.enabled ?? !j.enabled });
          } catch (error) {
            stats.replaceChildren(errorBox(error));
          }
        }),
        stats,
      );
    };
    draw(journey);
    box.append(card);
    get<Record<string, unknown>>(`/v1/journeys/${encodeURIComponent(journey.id)}/stats`)
      .then((s) => {
        const perStep = (s.steps as Record<string, unknown>[] | Record<string, Record<string, unknown>> | undefined) ?? [];
        const rows = Array.isArray(perStep) ? perStep : Object.entries(perStep).map(([id, v]) => ({ id, ...v }));
        const totals = Object.entries(s).filter(([, v]) => typeof v === "number");
        stats.replaceChildren(
          h("p", {}, totals.map(([k, v]) => `${k.replace(/_/g, " ")}: ${num(v)}`).join(" · ")),
          rows.length ? h("ul", { class: "step-stats" }, ...rows.map((r) => h("li", {}, words(r)))) : "",
        );
      })
      .catch((error) => stats.replaceChildren(errorBox(error)));
  }
};
