// Settings: the tunable numbers (caps, windows, thresholds). Admins edit them; marketers read them.
import { get, patch, ApiError } from "../api";
import { isAdmin } from "../auth";
import { t } from "../i18n";
import { h, errorBox, loading, field, section, table, when } from "../ui";
import type { Page } from "../router";

type Tree = Record<string, unknown>;

function controls(tree: Tree, path: string[], readOnly: boolean, ranges: Record<string, number[]>): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const [key, value] of Object.entries(tree)) {
    const at = [...path, key];
    const name = at.join(".");
    if (value && typeof value === "object" && !Array.isArray(value)) {
      out.push(h("fieldset", {}, h("legend", {}, key.replace(/_/g, " ")), ...controls(value as Tree, at, readOnly, ranges)));
      continue;
    }
    const kind = typeof value === "number" ? "number" : typeof value === "boolean" ? "checkbox" : "text";
    const [low, high] = ranges[name] ?? [];
    const input = h("input", { type: kind, name, id: `set-${name}`, readonly: readOnly, disabled: readOnly && kind === "checkbox", step: kind === "number" ? "any" : null, min: low ?? null, max: high ?? null, "data-kind": Array.isArray(value) ? "list" : kind });
    if (kind === "checkbox") input.checked = Boolean(value);
    else input.value = Array.isArray(value) ? value.join(", ") : value === null ? "" : String(value);
    out.push(field(key.replace(/_/g, " "), input, low !== undefined ? `${low} – ${high}` : undefined));
  }
  return out;
}

function read(form: HTMLFormElement, original: Tree): Tree {
  const copy = structuredClone(original);
  form.querySelectorAll("input[name]").forEach((el) => {
    const input = el as HTMLInputElement;
    const path = input.name.split(".");
    let node = copy as Tree;
    path.slice(0, -1).forEach((p) => (node = node[p] as Tree));
    const last = path[path.length - 1];
    const kind = input.dataset.kind;
    node[last] = kind === "checkbox" ? input.checked : kind === "number" ? Number(input.value) : kind === "list" ? input.value.split(",").map((s) => s.trim()).filter(Boolean) : input.value;
  });
  return copy;
}

export const settingsPage: Page = async (main) => {
  main.append(h("h1", { tabindex: "-1" }, t("settings.title")));
  const admin = isAdmin();
  main.append(h("p", { class: "lede" }, admin ? t("settings.adminLede") : t("settings.readOnly")));
  const box = h("div", {}, loading());
  main.append(box);
  let settings: Tree;
  try {
    settings = await get<Tree>("/v1/settings");
  } catch (error) {
    box.replaceChildren(errorBox(error));
    return;
  }
  const values = (settings.settings as Tree | undefined) ?? settings;
  const notices = h("div", { "aria-live": "polite" });
  const ranges = (settings.ranges as Record<string, number[]> | undefined) ?? {};
  const form = h("form", { class: "card settings" }, ...controls(values, [], !admin, ranges), notices, admin ? h("button", { type: "submit", class: "primary" }, t("settings.save")) : "");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    try {
      await patch("/v1/settings", read(form, values));
      notices.replaceChildren(h("p", { class: "ok-note", role: "status" }, t("settings.saved")));
    } catch (error) {
      notices.replaceChildren(errorBox(error));
      const path = error instanceof ApiError ? error.details.path : undefined;
      const wrong = typeof path === "string" ? (form.querySelector(`input[name="${CSS.escape(path)}"]`) as HTMLInputElement | null) : null;
      if (wrong) {
        wrong.setAttribute("aria-invalid", "true");
        wrong.focus();
      }
    }
  });
  const log = h("div", {}, loading());
  box.replaceChildren(form, section(t("settings.log"), log));
  try {
    const entries = (await get<{ entries: Record<string, unknown>[] }>("/v1/settings/log?limit=20")).entries ?? [];
    log.replaceChildren(
      table(t("settings.log"), [
        { label: t("tags.when"), value: (e) => when(e.at) },
        { label: t("tags.by"), value: (e) => String(e.by ?? "–") },
        { label: t("tags.change"), value: (e) => ((e.changes as Record<string, unknown>[] | undefined) ?? []).map((c) => `${c.path}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join("; ") },
        { label: t("tags.why"), value: (e) => String(e.reason ?? "–") },
      ], entries, t("tags.noLog")),
    );
  } catch (error) {
    log.replaceChildren(errorBox(error));
  }
};
