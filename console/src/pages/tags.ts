// Tags: the catalog by dimension (a colour each), health (silent, overloaded), the change log, rules.
import { get } from "../api";
import { t } from "../i18n";
import { h, section, table, errorBox, loading, when, num, badge, button, link } from "../ui";
import type { Page } from "../router";
import { tagChip } from "./customers";

interface Tag {
  name: string;
  dimension: string;
  kind: string;
  colour?: string;
  description?: string;
  state?: string;
}
interface LogEntry {
  at: string;
  change: string;
  tag: string;
  customer_id?: string;
  by?: string;
  reason?: string;
}

export const tagsPage: Page = async (main) => {
  main.append(h("h1", { tabindex: "-1" }, t("tags.title")));
  const catalog = h("div", {}, loading());
  const health = h("div", {}, loading());
  const log = h("div", {}, loading());
  const rules = h("div", {}, loading());
  main.append(section(t("tags.catalog"), catalog), section(t("tags.health"), health), section(t("tags.log"), log), section(t("tags.rules"), rules));
  try {
    const found = await get<{ tags: Tag[]; count?: number }>("/v1/tags");
    const byDimension = new Map<string, Tag[]>();
    found.tags.forEach((tag) => byDimension.set(tag.dimension, [...(byDimension.get(tag.dimension) ?? []), tag]));
    catalog.replaceChildren(
      h("p", {}, `${num(found.tags.length)} ${t("tags.inCatalog")} ${t("tags.healthySize")}`),
      ...Array.from(byDimension.entries()).map(([dimension, tags]) =>
        h(
          "div",
          { class: "dimension" },
          h("h3", {}, dimension),
          h("ul", { class: "chips" }, ...tags.map((tag) => h("li", {}, link(tagChip(tag.name, tag.colour), `/app/customers?tag=${encodeURIComponent(tag.name)}`, { title: tag.description ?? tag.name }), " ", h("span", { class: "kind" }, tag.kind)))),
        ),
      ),
    );
  } catch (error) {
    catalog.replaceChildren(errorBox(error));
  }
  try {
    const report = await get<{ computed_at?: string; catalog_size?: number; status?: string; warnings?: string[]; silent?: { name: string }[]; overloaded?: { name: string; share: number; suggestion: string }[] }>("/v1/tags/health");
    health.replaceChildren(
      h("p", {}, `${t("tags.computed")}: ${when(report.computed_at)} · ${t("tags.size")}: ${num(report.catalog_size)} `, badge(report.status ?? "–", report.status === "healthy" ? "ok" : "warn")),
      table(t("tags.silent"), [{ label: t("tags.tag"), value: (s) => s.name }], report.silent ?? [], t("tags.noSilent")),
      table(t("tags.overloaded"), [
        { label: t("tags.tag"), value: (s) => s.name },
        { label: t("tags.share"), value: (s) => `${Math.round(s.share * 100)}%`, numeric: true },
        { label: t("common.whatToDo"), value: (s) => s.suggestion },
      ], report.overloaded ?? [], t("tags.noOverloaded")),
    );
  } catch (error) {
    health.replaceChildren(errorBox(error));
  }
  const entries: LogEntry[] = [];
  const loadLog = async (cursor?: string): Promise<void> => {
    try {
      const page = await get<{ entries: LogEntry[]; cursor?: string | null }>(`/v1/tags/log?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      entries.push(...page.entries);
      log.replaceChildren(
        table(t("tags.log"), [
          { label: t("tags.when"), value: (e) => when(e.at) },
          { label: t("tags.change"), value: (e) => e.change },
          { label: t("tags.tag"), value: (e) => e.tag },
          { label: t("tags.by"), value: (e) => e.by ?? "–" },
          { label: t("tags.why"), value: (e) => e.reason ?? "–" },
        ], entries, t("tags.noLog")),
        page.cursor ? button(t("common.more"), () => void loadLog(page.cursor ?? undefined)) : "",
      );
    } catch (error) {
      log.replaceChildren(errorBox(error));
    }
  };
  await loadLog();
  try {
    const found = await get<{ rules: Record<string, unknown>[] }>("/v1/rules");
    rules.replaceChildren(
      table(t("tags.rules"), [
        { label: t("tags.rule"), value: (r) => String(r.name ?? r.id) },
        { label: t("tags.type"), value: (r) => String(r.type ?? "–") },
        { label: t("tags.tag"), value: (r) => String(r.tag ?? "–") },
        { label: t("tags.state"), value: (r) => (r.enabled ? badge(t("journeys.enabled"), "ok") : badge(t("journeys.disabled"), "none")) },
      ], found.rules, t("tags.noRules")),
    );
  } catch (error) {
    rules.replaceChildren(errorBox(error));
  }
};
