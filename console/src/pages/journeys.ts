// Journeys: the automations as readable flows (what starts them, each step in walk order, what
// ends them), enable/disable, and per-step stats (sent from each step, customers waiting at it).
import { get, post } from "../api";
import { t } from "../i18n";
import { h, errorBox, loading, badge, button, num, pct } from "../ui";
import type { Page } from "../router";

type Journey = {
  id: string;
  enabled?: boolean;
  version?: number;
  summary?: string;
  definition?: { name?: string; description?: string; trigger?: unknown; start?: string; steps?: Record<string, Record<string, unknown>> };
};
type Stats = {
  entered?: number;
  sent?: number;
  converted?: number;
  conversion_rate?: number;
  revenue?: number;
  active?: Record<string, number>;
  sent_by_step?: Record<string, number>;
  exited?: Record<string, number>;
};

function words(value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "object") return String(value);
  return Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "object" ? words(v) : String(v)}`)
    .join(", ");
}

/** The flow in the API's own words (`summary`: the trigger, then one line per step in walk order). */
function flow(journey: Journey): { trigger: string; steps: [string, string][]; tail: string[] } {
  const lines = (journey.summary ?? "").split("\n").filter(Boolean);
  if (lines.length) {
    const steps: [string, string][] = [];
    const tail: string[] = [];
    for (const line of lines.slice(1)) {
      const m = /^([\w-]+): (.*)$/.exec(line);
      if (m && journey.definition?.steps?.[m[1]]) steps.push([m[1], m[2]]);
      else tail.push(line);
    }
    return { trigger: lines[0].replace(/^[^:]*: /, ""), steps, tail };
  }
  const steps = Object.entries(journey.definition?.steps ?? {}).map(([id, s]) => [id, words(s)] as [string, string]);
  return { trigger: words(journey.definition?.trigger), steps, tail: [] };
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
    const notes = h("div", { "aria-live": "polite" });
    const card = h("section", { class: "card journey", "aria-label": journey.definition?.name ?? journey.id });
    let stats: Stats = {};
    const draw = (j: Journey) => {
      const { trigger, steps, tail } = flow(j);
      card.replaceChildren(
        h("h2", {}, j.definition?.name ?? j.id, " ", j.enabled ? badge(t("journeys.enabled"), "ok") : badge(t("journeys.disabled"), "none")),
        j.definition?.description ? h("p", { class: "help" }, j.definition.description) : "",
        h(
          "ol",
          { class: "flow", "aria-label": t("journeys.flow") },
          h("li", { class: "flow-trigger" }, h("strong", {}, t("journeys.trigger")), " ", trigger),
          ...steps.map(([id, text]) => {
            const sent = stats.sent_by_step?.[id];
            const here = stats.active?.[id];
            return h("li", { class: "flow-step", "data-step": id }, h("strong", {}, id), ": ", text, sent || here ? h("span", { class: "step-stats" }, ` · ${t("journeys.stepSent")} ${num(sent ?? 0)} · ${t("journeys.stepHere")} ${num(here ?? 0)}`) : "");
          }),
        ),
        ...tail.map((line) => h("p", { class: "help" }, line)),
        h("p", {}, `${t("journeys.entered")}: ${num(stats.entered ?? 0)} · ${t("metric.sent")}: ${num(stats.sent ?? 0)} · ${t("journeys.converted")}: ${num(stats.converted ?? 0)} (${pct(stats.conversion_rate ?? 0)})`),
        button(j.enabled ? t("journeys.disable") : t("journeys.enable"), async (event) => {
          const b = event.currentTarget as HTMLButtonElement;
          b.disabled = true;
          try {
            const changed = await post<Journey>(`/v1/journeys/${encodeURIComponent(j.id)}/${j.enabled ? "disable" : "enable"}`);
            journey.enabled = changed.enabled ?? !j.enabled;
            draw({ ...j, ...changed });
          } catch (error) {
            notes.replaceChildren(errorBox(error));
            b.disabled = false;
          }
        }),
        notes,
      );
    };
    draw(journey);
    box.append(card);
    get<Stats>(`/v1/journeys/${encodeURIComponent(journey.id)}/stats`)
      .then((s) => {
        stats = s;
        draw(journey);
      })
      .catch((error) => notes.replaceChildren(errorBox(error)));
  }
};
