// Small DOM helpers: elements, accessible states (loading, error with what to do, not available), tables, CSV.
import { t } from "./i18n";
import { ApiError } from "./api";

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value as EventListener);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

let ids = 0;
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled form field: the label names the control for screen readers. */
export function field(label: string, control: HTMLElement, help?: string): HTMLElement {
  const id = control.id || uid("f");
  control.id = id;
  const parts: Child[] = [h("label", { for: id }, label), control];
  if (help) {
    const helpId = `${id}-help`;
    control.setAttribute("aria-describedby", helpId);
    parts.push(h("p", { class: "help", id: helpId }, help));
  }
  return h("div", { class: "field" }, ...parts);
}

export function section(title: string, ...children: Child[]): HTMLElement {
  const id = uid("s");
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

export function loading(label?: string): HTMLElement {
  return h("p", { class: "loading", role: "status", "aria-live": "polite" }, h("span", { class: "spinner", "aria-hidden": "true" }), label ?? t("common.loading"));
}

/** What went wrong, in words, and what to do about it. */
export function errorBox(error: unknown): HTMLElement {
  if (error instanceof ApiError && error.notAvailable) return notAvailable();
  const err = error instanceof ApiError ? error : null;
  const message = err ? err.message : error instanceof Error ? error.message : String(error);
  const box = h(
    "div",
    { class: "error", role: "alert" },
    h("p", { class: "error-message" }, h("strong", {}, t("common.error")), " ", message),
    h("p", { class: "error-hint" }, h("strong", {}, t("common.whatToDo")), " ", err ? err.hint() : t("hint.network")),
  );
  if (err?.code) box.append(h("p", { class: "error-code" }, `${t("common.errorCode")}: ${err.code} (HTTP ${err.status})`));
  return box;
}

export function notAvailable(): HTMLElement {
  return h(
    "div",
    { class: "unavailable", role: "status" },
    h("p", {}, h("strong", {}, t("common.notAvailable"))),
    h("p", {}, t("common.notAvailableHint")),
  );
}

export function progressBar(label: string, value: number, max: number): HTMLElement {
  const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  const id = uid("p");
  return h(
    "div",
    { class: "progress-wrap" },
    h("label", { for: id }, `${label}: ${pct}%`),
    h("progress", { id, max: Math.max(max, 1), value: Math.min(value, Math.max(max, 1)), "aria-valuetext": `${pct}%` }),
  );
}

export interface Column<T> {
  label: string;
  value: (row: T) => Child;
  numeric?: boolean;
}

export function table<T>(caption: string, columns: Column<T>[], rows: T[], empty?: string): HTMLElement {
  if (rows.length === 0) return h("p", { class: "empty" }, empty ?? t("common.empty"));
  const head = h("tr", {}, ...columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : "" }, c.label)));
  const body = rows.map((row) => h("tr", {}, ...columns.map((c) => h("td", { class: c.numeric ? "num" : "" }, c.value(row)))));
  return h("div", { class: "table-wrap" }, h("table", {}, h("caption", {}, caption), h("thead", {}, head), h("tbody", {}, ...body)));
}

export function button(label: string, onClick: (event: Event) => void, attrs: Attrs = {}): HTMLButtonElement {
  return h("button", { type: "button", ...attrs, onclick: onClick as EventListener }, label);
}

export function link(label: Child, href: string, attrs: Attrs = {}): HTMLAnchorElement {
  return h("a", { href, "data-link": true, ...attrs }, label);
}

export function csv(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return "";
  const keys = Array.from(new Set(rows.flatMap((r) => Object.keys(r))));
  const cell = (v: unknown): string => {
    const text = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(text) || /^[=+\-@]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [keys.join(","), ...rows.map((r) => keys.map((k) => cell(r[k])).join(","))].join("\r\n") + "\r\n";
}

export function download(filename: string, text: string, type = "text/csv;charset=utf-8"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: number | undefined;
  return (...args: A) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => fn(...args), ms);
  };
}

export function pct(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(1)}%`;
}

export function num(value: unknown): string {
  return typeof value === "number" ? value.toLocaleString() : value === null || value === undefined ? "–" : String(value);
}

export function when(iso: unknown): string {
  if (typeof iso !== "string" || !iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Green, amber or red for a rate's health status (metrics' `health`). */
export function healthClass(status: string | undefined): string {
  if (status === "healthy") return "ok";
  if (status === "low" || status === "high") return "warn";
  if (status === "poor") return "bad";
  return "none";
}

export function badge(label: string, cls: string): HTMLElement {
  return h("span", { class: `badge ${cls}` }, label);
}

/** Announces a short message to screen readers and shows it briefly. */
export function announce(message: string): void {
  const region = document.getElementById("announcer");
  if (region) {
    region.textContent = "";
    window.setTimeout(() => (region.textContent = message), 50);
  }
}
