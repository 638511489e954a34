// Campaigns: create from a template (lint warnings inline, a phone-style preview), A/B set-up and a
// schedule; launch, pause, resume, cancel, follow-up, retargeting rounds; live progress and
// per-variant funnels.
import { get, post } from "../api";
import { chart, PALETTE } from "../charts";
import { t, type Key } from "../i18n";
import { h, section, table, errorBox, field, loading, link, num, when, button, progressBar, badge, announce } from "../ui";
import { navigate, type Page } from "../router";
import { FUNNEL, funnelChart, healthTable } from "./overview";

interface Template {
  name: string;
  language: string;
  category: string;
  body: string;
  buttons?: { type: string; text: string; url?: string | null; opt_out?: boolean }[];
  warnings?: string[];
  status?: string;
}
interface Campaign {
  id: string;
  name: string;
  status: string;
  created_at?: string;
  launched_at?: string | null;
  audience_count?: number | null;
  warnings?: string[];
  variants: { name: string; template?: string | null; body?: string[] | Record<string, string> }[];
  progress?: Record<string, number>;
  winner?: string | null;
  ab_result?: { why?: string } | null;
  pause_reason?: string | null;
  schedule?: { mode: string; at?: string | null };
  follow_up_of?: string | null;
  link?: string | null;
}
type Metrics = Record<string, unknown> & {
  variants?: Record<string, Record<string, number>>;
  health?: Record<string, { rate: number | null; status: string; healthy: string; sample: number }>;
};

const SAMPLE: Record<string, string> = { name: "Lena Vogel", first_name: "Lena", last_product: "Velvet lipstick", related_product: "Lip liner", amount: "49.90" };
const ACTIVE = ["scheduled", "running"];

function placeholders(body: string): string[] {
  return Array.from(new Set(Array.from(body.matchAll(/\{\{\s*([\w]+)\s*\}\}/g), (m) => m[1])));
}

/** The message as the customer sees it: parameters filled in with a sample customer's values. */
function phone(template: Template | undefined, params: Record<string, string>, extra: { coupon: string; link: string }): HTMLElement {
  const fill = (value: string) => value.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, v: string) => (v === "coupon" ? extra.coupon || "CODE" : v === "link" ? extra.link || "https://…" : SAMPLE[v] ?? `[${v}]`));
  const text = template ? template.body.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, p: string) => fill(params[p] ?? `{{${p}}}`)) : t("campaigns.pickTemplate");
  return h(
    "div",
    { class: "phone", role: "img", "aria-label": `${t("campaigns.preview")}: ${text}` },
    h("div", { class: "phone-bar" }, "Engage"),
    h("div", { class: "bubble" }, ...text.split("\n").flatMap((line, i) => (i ? [h("br"), line] : [line])), h("span", { class: "bubble-time" }, "10:30")),
    ...(template?.buttons ?? []).map((b) => h("div", { class: "bubble-button" }, b.text)),
  );
}

export const campaignsPage: Page = async (main) => {
  main.append(h("h1", { tabindex: "-1" }, t("campaigns.title")), h("p", {}, link(t("campaigns.new"), "/app/campaigns/new", { class: "button primary", id: "new-campaign" })));
  const box = h("div", {}, loading());
  main.append(box);
  try {
    const found = await get<{ campaigns: Campaign[] }>("/v1/campaigns");
    box.replaceChildren(
      table(t("campaigns.title"), [
        { label: t("campaigns.name"), value: (c) => link(c.name, `/app/campaigns/${encodeURIComponent(c.id)}`) },
        { label: t("campaigns.status"), value: (c) => statusBadge(c.status) },
        { label: t("campaigns.audience"), value: (c) => num(c.audience_count ?? null), numeric: true },
        { label: t("campaigns.variants"), value: (c) => c.variants.map((v) => v.name).join(" / ") },
        { label: t("campaigns.created"), value: (c) => when(c.created_at) },
      ], found.campaigns, t("campaigns.none")),
    );
  } catch (error) {
    box.replaceChildren(errorBox(error));
  }
};

function statusBadge(status: string): HTMLElement {
  const cls = status === "running" ? "ok" : status === "paused" ? "warn" : status === "cancelled" ? "bad" : "none";
  return badge(t(`campaigns.status.${status}` as Key), cls);
}

function variantEditor(label: string, templates: Template[], onChange: () => void): { el: HTMLElement; template: () => Template | undefined; params: () => Record<string, string>; select: HTMLSelectElement } {
  const select = h("select", { id: `template-${label}` }, h("option", { value: "" }, t("campaigns.pickTemplate")), ...templates.map((tp) => h("option", { value: `${tp.name}|${tp.language}` }, `${tp.name} (${tp.language})`)));
  const params = h("div", { class: "params" });
  const lint = h("div", { "aria-live": "polite" });
  const inputs: Record<string, HTMLInputElement> = {};
  const template = () => templates.find((tp) => `${tp.name}|${tp.language}` === select.value);
  const draw = () => {
    const tp = template();
    params.replaceChildren();
    for (const key of Object.keys(inputs)) delete inputs[key];
    if (tp) {
      placeholders(tp.body).forEach((p, i) => {
        const input = h("input", { id: `param-${label}-${p}`, type: "text", value: ["{{name}}", "{{coupon}}", "{{last_product}}"][i] ?? "", autocomplete: "off" });
        input.addEventListener("input", onChange);
        inputs[p] = input;
        params.append(field(`${t("campaigns.parameter")} {{${p}}}`, input));
      });
      lint.replaceChildren(
        tp.warnings?.length
          ? h("div", { class: "warning", role: "note" }, h("p", {}, h("strong", {}, t("campaigns.lint"))), h("ul", {}, ...tp.warnings.map((w) => h("li", {}, w))))
          : h("p", { class: "ok-note" }, t("campaigns.lintClean")),
      );
    } else {
      lint.replaceChildren();
    }
    onChange();
  };
  select.addEventListener("change", draw);
  return {
    el: h("fieldset", { class: "variant" }, h("legend", {}, `${t("campaigns.variant")} ${label}`), field(t("campaigns.template"), select), lint, params),
    template,
    params: () => Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value])),
    select,
  };
}

export const newCampaignPage: Page = async (main) => {
  main.append(h("p", {}, link(`← ${t("campaigns.title")}`, "/app/campaigns")), h("h1", { tabindex: "-1" }, t("campaigns.new")));
  const status = loading();
  main.append(status);
  let templates: Template[];
  let segments: { id: string; name: string; last_count?: number }[];
  try {
    [templates, segments] = await Promise.all([
      get<{ templates: Template[] }>("/v1/templates").then((r) => r.templates),
      get<{ segments: { id: string; name: string; last_count?: number }[] }>("/v1/segments").then((r) => r.segments),
    ]);
  } catch (error) {
    status.replaceWith(errorBox(error));
    return;
  }
  status.remove();
  const name = h("input", { id: "campaign-name", type: "text", required: true, autocomplete: "off" });
  const segment = h("select", { id: "campaign-segment", required: true }, h("option", { value: "" }, t("campaigns.pickSegment")), ...segments.map((s) => h("option", { value: s.id }, `${s.name} (${num(s.last_count ?? null)})`)));
  const coupon = h("input", { id: "campaign-coupon", type: "text", autocomplete: "off" });
  const target = h("input", { id: "campaign-link", type: "url", placeholder: "https://shop.example/…", autocomplete: "off" });
  const preview = h("div", { class: "preview-box" });
  const shown = (label: string, ed: ReturnType<typeof variantEditor>) => h("div", {}, h("p", { class: "help" }, `${t("campaigns.variant")} ${label}`), phone(ed.template(), ed.params(), { coupon: coupon.value, link: target.value }));
  const redraw = () => preview.replaceChildren(shown("A", a), abOn.checked && b.template() ? shown("B", b) : "");
  const a = variantEditor("A", templates, () => redraw());
  const b = variantEditor("B", templates, () => redraw());
  const abOn = h("input", { id: "campaign-ab", type: "checkbox" });
  const sample = h("input", { id: "campaign-ab-sample", type: "number", min: 1, max: 100, value: 10 });
  const window_ = h("input", { id: "campaign-ab-window", type: "number", min: 5, max: 1440, value: 60 });
  const abBox = h("div", { class: "ab", hidden: true }, b.el, field(t("campaigns.abSample"), sample, t("campaigns.abSampleHelp")), field(t("campaigns.abWindow"), window_, t("campaigns.abWindowHelp")));
  abOn.addEventListener("change", () => {
    abBox.hidden = !abOn.checked;
    redraw();
  });
  const mode = h("select", { id: "campaign-schedule" }, h("option", { value: "now" }, t("campaigns.scheduleNow")), h("option", { value: "best_window" }, t("campaigns.scheduleBest")), h("option", { value: "at" }, t("campaigns.scheduleAt")));
  const at = h("input", { id: "campaign-at", type: "datetime-local" });
  const atField = field(t("campaigns.at"), at);
  atField.hidden = true;
  mode.addEventListener("change", () => (atField.hidden = mode.value !== "at"));
  [coupon, target].forEach((el) => el.addEventListener("input", redraw));
  const problems = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card campaign-form", novalidate: true },
    h(
      "div",
      { class: "two" },
      h(
        "div",
        {},
        field(t("campaigns.name"), name),
        field(t("campaigns.audience"), segment, t("campaigns.audienceHelp")),
        a.el,
        h("div", { class: "check" }, abOn, h("label", { for: "campaign-ab" }, t("campaigns.abTest"))),
        abBox,
        field(t("campaigns.coupon"), coupon),
        field(t("campaigns.link"), target, t("campaigns.linkHelp")),
        field(t("campaigns.schedule"), mode),
        atField,
      ),
      h("div", {}, h("h2", {}, t("campaigns.preview")), preview),
    ),
    problems,
    h("button", { type: "submit", class: "primary", id: "campaign-create" }, t("campaigns.create")),
  );
  main.append(form);
  redraw();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const missing = [!name.value.trim() && name, !segment.value && segment, !a.template() && a.select, abOn.checked && !b.template() && b.select].filter(Boolean) as HTMLElement[];
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    if (missing.length) {
      missing.forEach((el) => el.setAttribute("aria-invalid", "true"));
      problems.replaceChildren(errorBox(new Error(t("campaigns.fillIn"))));
      missing[0].focus();
      return;
    }
    const variant = (label: string, ed: typeof a) => {
      const tp = ed.template() as Template;
      const buttons = (tp.buttons ?? []).map((btn, index) => ({ btn, index })).filter(({ btn }) => btn.type === "url" && btn.url?.includes("{{")).map(({ index }) => ({ index, value: "{{link}}" }));
      const params = placeholders(tp.body).map((p) => ed.params()[p] ?? "");
      return { name: label, template: tp.name, language: tp.language, body: params, buttons };
    };
    const body: Record<string, unknown> = {
      name: name.value.trim(),
      segment_id: segment.value,
      variants: abOn.checked ? [variant("A", a), variant("B", b)] : [variant("A", a)],
      fallbacks: { name: "there", first_name: "there" },
      schedule: mode.value === "at" ? { mode: "at", at: at.value ? new Date(at.value).toISOString() : "" } : { mode: mode.value },
    };
    if (coupon.value.trim()) body.coupon_code = coupon.value.trim();
    if (target.value.trim()) body.link = target.value.trim();
    if (abOn.checked) body.ab = { sample_fraction: Number(sample.value) / 100, window_minutes: Number(window_.value) };
    try {
      const created = await post<Campaign>("/v1/campaigns", body);
      announce(t("campaigns.createdNotice"));
      navigate(`/campaigns/${encodeURIComponent(created.id)}`);
    } catch (error) {
      problems.replaceChildren(errorBox(error));
    }
  });
};

const ACTIONS: [string, Key, string[]][] = [
  ["launch", "campaigns.launch", ["draft"]],
  ["pause", "campaigns.pause", ["scheduled", "running"]],
  ["resume", "campaigns.resume", ["paused"]],
  ["cancel", "campaigns.cancel", ["draft", "scheduled", "running", "paused"]],
  ["follow-up", "campaigns.followUp", ["completed", "cancelled"]],
];

/** A retargeting round (POST /v1/campaigns/{id}/retarget): the campaign's recipients who did not
 * read it, or did not click its link, at least `after_hours` after their send; it opens as a draft. */
function retargetForm(campaign: Campaign): HTMLElement {
  const audience = h(
    "select",
    { id: "retarget-audience" },
    h("option", { value: "not_read" }, t("campaigns.retargetNotRead")),
    ...(campaign.link ? [h("option", { value: "not_clicked" }, t("campaigns.retargetNotClicked"))] : []),
  );
  const after = h("input", { id: "retarget-after", type: "number", min: 24, max: 720, value: 24, required: true });
  const problems = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", id: "retarget-plan" }, t("campaigns.retargetPlan"));
  const form = h(
    "form",
    { id: "retarget-form" },
    field(t("campaigns.retargetAudience"), audience),
    field(t("campaigns.retargetAfter"), after, t("campaigns.retargetAfterHelp")),
    submit,
    problems,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const round = await post<Campaign>(`/v1/campaigns/${encodeURIComponent(campaign.id)}/retarget`, {
        audience: audience.value,
        after_hours: Number(after.value),
      });
      announce(t("campaigns.retargetPlanned"));
      navigate(`/campaigns/${encodeURIComponent(round.id)}`);
    } catch (error) {
      problems.replaceChildren(errorBox(error));
    } finally {
      submit.disabled = false;
    }
  });
  return section(t("campaigns.retarget"), h("p", { class: "help" }, t("campaigns.retargetHelp")), form);
}

// Not while the page refreshes itself (scheduled, running): a redraw would clear the form.
const RETARGETABLE = ["paused", "completed", "cancelled"];

export const campaignPage: Page = async (main, params, _query, scope) => {
  const id = params.id;
  main.append(h("p", {}, link(`← ${t("campaigns.title")}`, "/app/campaigns")));
  const heading = h("h1", { tabindex: "-1" }, id);
  const actions = h("div", { class: "actions", role: "group", "aria-label": t("campaigns.actions") });
  const notices = h("div", { "aria-live": "polite" });
  const body = h("div", {}, loading());
  main.append(heading, actions, notices, body);
  const draw = async (): Promise<void> => {
    const campaign = await get<Campaign>(`/v1/campaigns/${encodeURIComponent(id)}`);
    let metrics: Metrics | null = null;
    try {
      metrics = await get<Metrics>(`/v1/campaigns/${encodeURIComponent(id)}/metrics`);
    } catch {
      metrics = null; // no counters yet
    }
    if (!scope.alive()) return;
    heading.textContent = campaign.name;
    actions.replaceChildren(
      statusBadge(campaign.status),
      ...ACTIONS.filter(([, , when_]) => when_.includes(campaign.status)).map(([action, key]) =>
        button(t(key), async (event) => {
          const btn = event.currentTarget as HTMLButtonElement;
          btn.disabled = true;
          try {
            const result = await post<Campaign>(`/v1/campaigns/${encodeURIComponent(id)}/${action}`);
            notices.replaceChildren(h("p", { class: "ok-note", role: "status" }, `${t(key)}: ${t("common.done")}`));
            if (action === "follow-up" && result?.id && result.id !== id) navigate(`/campaigns/${encodeURIComponent(result.id)}`);
            else await draw();
          } catch (error) {
            notices.replaceChildren(errorBox(error));
          } finally {
            btn.disabled = false;
          }
        }, { "data-action": action }),
      ),
    );
    const progress = campaign.progress ?? {};
    const audience = campaign.audience_count ?? 0;
    const handled = ["sent", "refused", "failed"].reduce((n, k) => n + (progress[k] ?? 0), 0);
    const parts: (HTMLElement | string)[] = [];
    if (campaign.warnings?.length) parts.push(h("div", { class: "warning", role: "note" }, h("p", {}, h("strong", {}, t("campaigns.lint"))), h("ul", {}, ...campaign.warnings.map((w) => h("li", {}, w)))));
    if (campaign.pause_reason) parts.push(h("p", { class: "warning" }, `${t("campaigns.pausedBecause")}: ${campaign.pause_reason}`));
    parts.push(
      section(
        t("campaigns.progress"),
        audience ? progressBar(t("campaigns.handled"), handled, audience) : h("p", {}, t("campaigns.notLaunched")),
        h("dl", { class: "facts", id: "campaign-progress" }, h("dt", {}, t("campaigns.audience")), h("dd", {}, num(audience)), ...Object.entries(progress).sort().flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, num(v))])),
        campaign.winner ? h("p", {}, `${t("campaigns.winner")}: ${campaign.winner} — ${campaign.ab_result?.why ?? ""}`) : "",
      ),
    );
    if (RETARGETABLE.includes(campaign.status)) parts.push(retargetForm(campaign));
    if (metrics) {
      const variants = Object.entries(metrics.variants ?? {});
      parts.push(
        section(
          t("campaigns.funnel"),
          h("p", { class: "help" }, t("overview.uniqueNote")),
          funnelChart(t("campaigns.funnel"), metrics as unknown as Record<string, number>, "campaign-funnel"),
          variants.length > 1
            ? chart(
                t("campaigns.variantFunnels"),
                { type: "bar", data: { labels: FUNNEL.map(([, k]) => t(k)), datasets: variants.map(([v, c], i) => ({ label: `${t("campaigns.variant")} ${v}`, data: FUNNEL.map(([m]) => c[m] ?? 0), backgroundColor: PALETTE[i] })) }, options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } },
                variants.map(([v, c]) => `${v}: ${FUNNEL.map(([m, k]) => `${t(k)} ${c[m] ?? 0}`).join(", ")}`).join("; "),
                "variant-funnels",
              )
            : "",
          metrics.health ? healthTable(metrics.health) : "",
        ),
      );
    }
    body.replaceChildren(...parts);
  };
  try {
    await draw();
  } catch (error) {
    body.replaceChildren(errorBox(error));
    return;
  }
  scope.every(3000, async () => {
    const status = actions.querySelector(".badge")?.textContent;
    if (!status || ACTIVE.some((s) => t(`campaigns.status.${s}` as Key) === status)) {
      try {
        await draw();
      } catch (error) {
        notices.replaceChildren(errorBox(error));
      }
    }
  });
};
