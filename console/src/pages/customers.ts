// Customers: search (with CSV export of what the filter finds) and a profile: tags coloured per
// dimension, RFM and lifecycle, consent, and the timeline.
import { get, all, ApiError } from "../api";
import { t } from "../i18n";
import { h, section, table, errorBox, loading, field, link, when, num, csv, download, notAvailable, button, badge } from "../ui";
import { navigate, type Page } from "../router";

type Customer = Record<string, unknown> & {
  id: string;
  wa_id?: string;
  user_id?: string;
  name?: string;
  consent?: { marketing?: boolean; updated_at?: string; source?: string };
  tags?: { name: string; since?: string; source?: string; reason?: string }[];
};

let colours: Record<string, string> | null = null;

/** Each tag's colour from the catalog (a colour per dimension). */
export async function tagColours(): Promise<Record<string, string>> {
  if (colours) return colours;
  try {
    const catalog = await get<{ tags: { name: string; colour?: string }[] }>("/v1/tags");
    colours = Object.fromEntries(catalog.tags.map((tag) => [tag.name, tag.colour ?? "#57606a"]));
  } catch {
    colours = {};
  }
  return colours;
}

export function tagChip(name: string, colour?: string): HTMLElement {
  const dimension = name.split(":")[0];
  return h("span", { class: "tag", style: `--tag:${colour ?? "#57606a"}`, title: `${t("tags.dimension")}: ${dimension}` }, h("span", { class: "dot", "aria-hidden": "true" }), name);
}

function ref(c: Customer): string {
  return c.wa_id || c.user_id || c.id;
}

export const customersPage: Page = async (main, _params, query) => {
  main.append(h("h1", { tabindex: "-1" }, t("customers.title")));
  const q = h("input", { id: "customer-q", type: "search", value: query.get("q") ?? "", autocomplete: "off" });
  const tag = h("input", { id: "customer-tag", type: "text", value: query.get("tag") ?? "", autocomplete: "off" });
  const consent = h("select", { id: "customer-consent" }, h("option", { value: "" }, t("customers.any")), h("option", { value: "true" }, t("customers.consentYes")), h("option", { value: "false" }, t("customers.consentNo")));
  consent.value = query.get("consent") ?? "";
  const results = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card filters", role: "search" },
    field(t("customers.search"), q, t("customers.searchHelp")),
    field(t("customers.tag"), tag),
    field(t("customers.consent"), consent),
    h("button", { type: "submit", class: "primary" }, t("customers.find")),
  );
  main.append(form, results);
  const params = (): URLSearchParams => {
    const p = new URLSearchParams();
    if (q.value.trim()) p.set("q", q.value.trim());
    if (tag.value.trim()) p.set("tag", tag.value.trim());
    if (consent.value) p.set("consent", consent.value);
    if (query.get("segment_id")) p.set("segment_id", query.get("segment_id") as string);
    return p;
  };
  const search = async (): Promise<void> => {
    results.replaceChildren(loading());
    try {
      const page = await get<{ customers: Customer[]; cursor?: string | null }>(`/v1/customers?${params()}&limit=50`);
      const exportButton = button(t("customers.export"), async () => {
        exportButton.disabled = true;
        exportButton.textContent = t("common.working");
        try {
          const rows = await all<Customer>(`/v1/customers?${params()}&limit=200`, "customers");
          download("customers.csv", csv(rows.map((c) => ({ id: c.id, wa_id: c.wa_id, user_id: c.user_id, name: c.name, marketing_consent: c.consent?.marketing, tags: (c.tags ?? []).map((x) => x.name).join(" ") }))));
        } catch (error) {
          results.prepend(errorBox(error));
        } finally {
          exportButton.disabled = false;
          exportButton.textContent = t("customers.export");
        }
      });
      results.replaceChildren(
        h("p", {}, `${num(page.customers.length)}${page.cursor ? "+" : ""} ${t("customers.found")} `, exportButton),
        table(
          t("customers.title"),
          [
            { label: t("customers.name"), value: (c) => link(c.name || t("customers.noName"), `/app/customers/${encodeURIComponent(ref(c))}`) },
            { label: "wa_id", value: (c) => c.wa_id || "–" },
            { label: t("customers.consent"), value: (c) => (c.consent?.marketing ? badge(t("customers.consentYes"), "ok") : badge(t("customers.consentNo"), "none")) },
            { label: t("customers.tags"), value: (c) => String((c.tags ?? []).length) , numeric: true },
          ],
          page.customers,
          t("customers.none"),
        ),
      );
    } catch (error) {
      if (error instanceof ApiError && error.notAvailable) {
        results.replaceChildren(notAvailable(), h("p", {}, t("customers.lookupInstead")));
        const wanted = q.value.trim();
        if (wanted) navigate(`/customers/${encodeURIComponent(wanted)}`);
      } else {
        results.replaceChildren(errorBox(error));
      }
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `?${params()}`);
    void search();
  });
  await search();
};

export const customerPage: Page = async (main, params) => {
  main.append(h("p", {}, link(`← ${t("customers.title")}`, "/app/customers")));
  const status = loading();
  main.append(status);
  let customer: Customer;
  try {
    customer = await get<Customer>(`/v1/customers/${encodeURIComponent(params.ref)}`);
  } catch (error) {
    status.replaceWith(h("h1", { tabindex: "-1" }, params.ref), errorBox(error));
    return;
  }
  status.remove();
  const palette = await tagColours();
  main.append(h("h1", { tabindex: "-1" }, customer.name || params.ref));
  const facts: [string, unknown][] = [
    ["wa_id", customer.wa_id],
    ["user_id", customer.user_id],
    [t("customers.country"), customer.country],
    [t("customers.lastInteraction"), when(customer.last_interaction_at)],
    [t("customers.orders"), customer.orders],
    [t("customers.spent"), customer.total_spent],
  ];
  main.append(section(t("customers.profile"), h("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v === null || v === undefined || v === "" ? "–" : String(v))]))));
  const consent = customer.consent ?? {};
  main.append(
    section(
      t("customers.consent"),
      h("p", {}, consent.marketing ? badge(t("customers.consentYes"), "ok") : badge(t("customers.consentNo"), "bad"), " ", consent.updated_at ? `${when(consent.updated_at)} (${consent.source ?? "–"})` : ""),
    ),
  );
  const tags = customer.tags ?? [];
  const rfm = (customer.rfm as Record<string, unknown> | undefined) ?? null;
  const stages = customer.lifecycle as Record<string, unknown> | string | undefined;
  const lifecycleText = stages && typeof stages === "object" ? Object.entries(stages).filter(([, v]) => v !== null && v !== "").map(([k, v]) => `${k.replace(/_/g, " ")}: ${String(v)}`).join(" · ") : stages;
  const lifecycle = lifecycleText || tags.find((x) => x.name.startsWith("lifecycle:"))?.name || null;
  const rfmTag = tags.find((x) => x.name.startsWith("rfm:"))?.name;
  main.append(
    section(
      t("customers.rfm"),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "RFM"),
        h("dd", {}, rfm ? Object.entries(rfm).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ") : rfmTag ?? t("customers.noLifecycle")),
        h("dt", {}, t("customers.lifecycle")),
        h("dd", {}, lifecycle ?? t("customers.noLifecycle")),
      ),
    ),
  );
  main.append(
    section(
      t("customers.tags"),
      tags.length === 0
        ? h("p", { class: "empty" }, t("customers.noTags"))
        : table(
            t("customers.tags"),
            [
              { label: t("customers.tag"), value: (x) => tagChip(x.name, palette[x.name]) },
              { label: t("customers.since"), value: (x) => when(x.since) },
              { label: t("customers.source"), value: (x) => x.source ?? "–" },
              { label: t("customers.reason"), value: (x) => x.reason ?? "–" },
            ],
            tags,
          ),
    ),
  );
  const timeline = h("div", {}, loading());
  main.append(section(t("customers.timeline"), timeline));
  try {
    const history = await get<{ entries?: Record<string, unknown>[]; items?: Record<string, unknown>[] }>(`/v1/customers/${encodeURIComponent(params.ref)}/history`);
    const items = history.entries ?? history.items ?? [];
    timeline.replaceChildren(
      items.length === 0
        ? h("p", { class: "empty" }, t("customers.noHistory"))
        : h(
            "ol",
            { class: "timeline" },
            ...items.map((item) => {
              const { at, time, kind, type, ...rest } = item as Record<string, unknown>;
              return h("li", {}, h("time", {}, when(at ?? time)), " ", h("strong", {}, String(kind ?? type ?? "event")), " ", h("span", { class: "detail" }, summarise(rest)));
            }),
          ),
    );
  } catch (error) {
    timeline.replaceChildren(errorBox(error));
  }
};

function summarise(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .slice(0, 6)
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(" · ");
}
