// Segments: the text rule editor (errors at their position, suggestions), a live count and sample
// while typing, saved segments with their size history, and exports.
import { get, post, put, ApiError } from "../api";
import { chart, PALETTE } from "../charts";
import { t } from "../i18n";
import { h, section, table, errorBox, field, debounce, num, link, loading, button, progressBar, announce, when } from "../ui";
import type { Page, Scope } from "../router";

interface Problem {
  code: string;
  message: string;
  offset?: number;
  suggestions?: string[];
}
interface Segment {
  id: string;
  name: string;
  text?: string;
  rule: unknown;
  last_count?: number;
  last_counted_at?: string;
  sizes?: { day: string; count: number }[];
}
interface Preview {
  count: number;
  sample: { wa_id?: string; user_id?: string; name?: string; tags?: string[] }[];
  took_ms?: number;
  text?: string;
}

/** The rule text with the character at `offset` marked, and a caret line under it. */
function pointAt(text: string, offset: number): HTMLElement {
  const at = Math.max(0, Math.min(offset, text.length));
  const shown = at < text.length ? text[at] : " ";
  return h("pre", { class: "rule-pointer", "aria-hidden": "true" }, text.slice(0, at), h("mark", {}, shown), text.slice(at + 1), "\n", " ".repeat(at) + "^");
}

/** Puts a suggestion in place of the word at `offset`; a suggested value keeps its `name:` prefix. */
function replaceWordAt(text: string, offset: number, replacement: string): string {
  const word = /^[\w:.*-]+/.exec(text.slice(offset))?.[0] ?? "";
  const keep = word.includes(":") && !replacement.includes(":") ? word.slice(0, word.lastIndexOf(":") + 1) : "";
  return text.slice(0, offset) + keep + replacement + text.slice(offset + word.length);
}

async function exportSegment(segment: Segment, box: HTMLElement, scope: Scope): Promise<void> {
  box.replaceChildren(loading(t("segments.exporting")));
  try {
    const started = await post<{ id: string }>(`/v1/segments/${encodeURIComponent(segment.id)}/export`);
    for (let i = 0; i < 600 && scope.alive(); i++) {
      const job = await get<{ state: string; rows?: number; processed?: number; url?: string; download_url?: string }>(`/v1/exports/${encodeURIComponent(started.id)}`);
      const url = job.download_url ?? job.url;
      if (job.state === "done" && url) {
        box.replaceChildren(h("a", { href: url, class: "button", download: `${segment.id}.csv` }, t("segments.downloadExport")));
        announce(t("segments.exportReady"));
        return;
      }
      if (job.state === "failed") throw new ApiError(500, "export_failed", t("segments.exportFailed"));
      box.replaceChildren(progressBar(t("segments.exporting"), job.processed ?? 0, job.rows ?? segment.last_count ?? 1));
      await new Promise((r) => setTimeout(r, 1000));
    }
  } catch (error) {
    box.replaceChildren(errorBox(error));
  }
}

export const segmentsPage: Page = async (main, _params, query, scope) => {
  main.append(h("h1", { tabindex: "-1" }, t("segments.title")), h("p", { class: "lede" }, t("segments.lede")));
  const editor = h("textarea", { id: "rule", rows: 3, spellcheck: "false", autocomplete: "off", "aria-describedby": "rule-problems rule-help" });
  const name = h("input", { id: "segment-name", type: "text", autocomplete: "off" });
  const problems = h("div", { id: "rule-problems", "aria-live": "polite" });
  const count = h("output", { id: "segment-count", for: "rule", "aria-live": "polite" }, "–");
  const sample = h("div", {});
  const saved = h("div", {});
  const detail = h("div", {});
  let selected: Segment | null = null;
  const saveButton = h("button", { type: "submit", class: "primary", id: "segment-save" }, t("segments.save"));
  const form = h(
    "form",
    { class: "card" },
    field(t("segments.rule"), editor),
    h("p", { class: "help", id: "rule-help" }, t("segments.ruleHelp")),
    problems,
    h("p", { class: "live-count" }, h("span", {}, `${t("segments.count")}: `), count),
    field(t("segments.name"), name),
    saveButton,
  );
  main.append(form, section(t("segments.sample"), sample), section(t("segments.saved"), saved), detail);

  let seq = 0;
  const preview = async (): Promise<void> => {
    const text = editor.value.trim();
    const mine = ++seq;
    if (!text) {
      problems.replaceChildren();
      count.textContent = "–";
      editor.removeAttribute("aria-invalid");
      return;
    }
    count.textContent = "…";
    try {
      const result = await post<Preview>("/v1/segments/preview", { rule: text });
      if (mine !== seq || !scope.alive()) return;
      editor.removeAttribute("aria-invalid");
      problems.replaceChildren();
      count.textContent = num(result.count);
      count.dataset.count = String(result.count);
      sample.replaceChildren(
        table(t("segments.sample"), [
          { label: t("customers.name"), value: (c) => (c.wa_id || c.user_id ? link(c.name || t("customers.noName"), `/app/customers/${encodeURIComponent((c.wa_id || c.user_id) as string)}`) : c.name ?? "–") },
          { label: "wa_id", value: (c) => c.wa_id ?? "–" },
        ], result.sample ?? [], t("segments.noSample")),
      );
    } catch (error) {
      if (mine !== seq || !scope.alive()) return;
      count.textContent = "–";
      delete count.dataset.count;
      if (error instanceof ApiError && error.code === "invalid_rule") {
        editor.setAttribute("aria-invalid", "true");
        const list = (error.details.problems as Problem[] | undefined) ?? [{ code: error.code, message: error.message }];
        problems.replaceChildren(
          h(
            "div",
            { class: "error", role: "alert" },
            ...list.map((p) =>
              h(
                "div",
                { class: "problem" },
                h("p", {}, h("strong", {}, t("segments.problem")), " ", p.message, p.offset !== undefined ? ` (${t("segments.atChar")} ${p.offset + 1})` : ""),
                p.offset !== undefined ? pointAt(editor.value, p.offset + (editor.value.length - editor.value.trimStart().length)) : null,
                p.suggestions?.length
                  ? h(
                      "p",
                      {},
                      `${t("segments.didYouMean")} `,
                      ...p.suggestions.map((s) =>
                        button(s, () => {
                          const lead = editor.value.length - editor.value.trimStart().length;
                          editor.value = replaceWordAt(editor.value, (p.offset ?? 0) + lead, s);
                          editor.focus();
                          void preview();
                        }, { class: "suggestion" }),
                      ),
                    )
                  : h("p", {}, h("strong", {}, t("common.whatToDo")), " ", t("hint.code.invalid_rule")),
              ),
            ),
          ),
        );
      } else {
        problems.replaceChildren(errorBox(error));
      }
    }
  };
  editor.addEventListener("input", debounce(() => void preview(), 350));

  const showDetail = async (segment: Segment): Promise<void> => {
    detail.replaceChildren(loading());
    try {
      const full = await get<Segment>(`/v1/segments/${encodeURIComponent(segment.id)}`);
      const sizes = [...(full.sizes ?? [])].reverse();
      const exportBox = h("div", { "aria-live": "polite" });
      detail.replaceChildren(
        section(
          `${t("segments.segment")}: ${full.name}`,
          h("p", {}, h("code", {}, full.text ?? JSON.stringify(full.rule))),
          h("p", {}, `${t("segments.lastCount")}: ${num(full.last_count)} (${when(full.last_counted_at)}) `, link(t("segments.customers"), `/app/customers?segment_id=${encodeURIComponent(full.id)}`)),
          sizes.length
            ? chart(t("segments.sizes"), { type: "line", data: { labels: sizes.map((s) => s.day), datasets: [{ label: t("segments.count"), data: sizes.map((s) => s.count), borderColor: PALETTE[1], backgroundColor: PALETTE[1] }] }, options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } }, sizes.map((s) => `${s.day}: ${s.count}`).join(", "), "sizes-chart")
            : h("p", { class: "empty" }, t("segments.noSizes")),
          button(t("segments.export"), () => void exportSegment(full, exportBox, scope), { id: "segment-export" }),
          exportBox,
        ),
      );
    } catch (error) {
      detail.replaceChildren(errorBox(error));
    }
  };

  const list = async (): Promise<void> => {
    try {
      const found = await get<{ segments: Segment[] }>("/v1/segments");
      saved.replaceChildren(
        table(t("segments.saved"), [
          { label: t("segments.name"), value: (s) => button(s.name, () => select(s), { class: "linklike" }) },
          { label: t("segments.rule"), value: (s) => h("code", {}, s.text ?? "") },
          { label: t("segments.lastCount"), value: (s) => num(s.last_count), numeric: true },
        ], found.segments, t("segments.none")),
      );
      const wanted = query.get("id");
      const hit = wanted ? found.segments.find((s) => s.id === wanted) : undefined;
      if (hit && !selected) select(hit);
    } catch (error) {
      saved.replaceChildren(errorBox(error));
    }
  };
  const select = (segment: Segment): void => {
    selected = segment;
    editor.value = segment.text ?? "";
    name.value = segment.name;
    saveButton.textContent = t("segments.update");
    void preview();
    void showDetail(segment);
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!name.value.trim()) {
      name.setAttribute("aria-invalid", "true");
      problems.replaceChildren(errorBox(new ApiError(400, "name_required", t("segments.nameRequired"))));
      name.focus();
      return;
    }
    name.removeAttribute("aria-invalid");
    try {
      const body = { name: name.value.trim(), rule: editor.value.trim() };
      const segment = selected ? await put<Segment>(`/v1/segments/${encodeURIComponent(selected.id)}`, body) : await post<Segment>("/v1/segments", body);
      selected = segment;
      saveButton.textContent = t("segments.update");
      problems.replaceChildren(h("p", { class: "ok-note", role: "status" }, `${t("segments.savedNotice")}: ${segment.name} (${num(segment.last_count)})`));
      await list();
      void showDetail(segment);
    } catch (error) {
      problems.replaceChildren(errorBox(error));
    }
  });
  await list();
};
