// Imports: a CSV goes up through a presigned upload (progress bar), then the import's report, with
// the failed rows to download.
import { get, post, ApiError } from "../api";
import { t } from "../i18n";
import { h, section, errorBox, field, progressBar, num, table, loading, when } from "../ui";
import type { Page, Scope } from "../router";

interface ImportJob {
  id: string;
  state: "queued" | "running" | "done" | "failed";
  filename?: string;
  rows?: number | null;
  processed?: number;
  imported?: number;
  updated?: number;
  failed?: Record<string, number>;
  duplicates?: number;
  failed_total?: number;
  errors_url?: string | null;
  error?: string | { message?: string };
  created_at?: string;
}

function upload(url: string, file: File, onProgress: (sent: number, total: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.setRequestHeader("content-type", "text/csv");
    xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener("load", () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new ApiError(xhr.status, "upload_failed", t("imports.uploadFailed")))));
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", t("error.network"))));
    xhr.send(file);
  });
}

export function report(job: ImportJob): HTMLElement {
  const failed = Object.entries(job.failed ?? {}).filter(([, n]) => n > 0);
  const failedTotal = job.failed_total ?? failed.reduce((n, [, v]) => n + v, 0);
  const box = h(
    "div",
    { class: "report", "data-state": job.state },
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("imports.state")),
      h("dd", { class: "import-state" }, t(`imports.state.${job.state}`)),
      h("dt", {}, t("imports.rows")),
      h("dd", {}, num(job.rows ?? null)),
      h("dt", {}, t("imports.imported")),
      h("dd", { class: "import-imported" }, num(job.imported ?? 0)),
      h("dt", {}, t("imports.updated")),
      h("dd", {}, num(job.updated ?? 0)),
      h("dt", {}, t("imports.duplicates")),
      h("dd", {}, num(job.duplicates ?? 0)),
      h("dt", {}, t("imports.failed")),
      h("dd", { class: "import-failed" }, num(failedTotal)),
    ),
    table(t("imports.failedByReason"), [
      { label: t("imports.reason"), value: ([r]) => r },
      { label: t("metric.count"), value: ([, n]) => num(n), numeric: true },
    ], failed, t("imports.noFailures")),
  );
  if (job.errors_url) box.append(h("p", {}, h("a", { href: job.errors_url, download: `${job.id}-errors.csv`, class: "button" }, t("imports.downloadFailed"))));
  if (job.state === "failed" && job.error) box.append(errorBox(new Error(typeof job.error === "string" ? job.error : job.error.message ?? "")));
  return box;
}

async function follow(id: string, box: HTMLElement, scope: Scope): Promise<void> {
  const draw = (job: ImportJob) => {
    box.replaceChildren(
      job.state === "done" || job.state === "failed" ? h("p", { role: "status" }, t("imports.finished")) : progressBar(t("imports.processing"), job.processed ?? 0, job.rows ?? Math.max(job.processed ?? 0, 1)),
      report(job),
    );
  };
  const first = await get<ImportJob>(`/v1/imports/${encodeURIComponent(id)}`);
  draw(first);
  if (first.state === "done" || first.state === "failed") return;
  await new Promise<void>((resolve) => {
    scope.every(1000, async () => {
      try {
        const job = await get<ImportJob>(`/v1/imports/${encodeURIComponent(id)}`);
        draw(job);
        if (job.state === "done" || job.state === "failed") resolve();
      } catch (error) {
        box.replaceChildren(errorBox(error));
        resolve();
      }
    });
    scope.signal.addEventListener("abort", () => resolve());
  });
}

export const importsPage: Page = async (main, _params, query, scope) => {
  main.append(h("h1", { tabindex: "-1" }, t("imports.title")), h("p", { class: "lede" }, t("imports.lede")));
  const file = h("input", { id: "import-file", type: "file", accept: ".csv,text/csv", required: true });
  const country = h("input", { id: "import-country", type: "text", maxlength: 2, size: 3, placeholder: "DE", autocomplete: "off" });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card" },
    field(t("imports.file"), file, t("imports.fileHelp")),
    field(t("imports.country"), country, t("imports.countryHelp")),
    h("button", { type: "submit", class: "primary", id: "import-start" }, t("imports.start")),
  );
  main.append(form, section(t("imports.report"), status));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) {
      file.setAttribute("aria-invalid", "true");
      status.replaceChildren(errorBox(new ApiError(400, "no_file", t("imports.noFile"))));
      file.focus();
      return;
    }
    const submit = form.querySelector("button[type=submit]") as HTMLButtonElement;
    submit.disabled = true;
    try {
      status.replaceChildren(loading(t("imports.creating")));
      const body: Record<string, unknown> = { filename: chosen.name };
      if (country.value.trim()) body.default_country = country.value.trim().toUpperCase();
      const created = await post<{ id: string; upload_url?: string }>("/v1/imports", body);
      if (created.upload_url) {
        await upload(created.upload_url, chosen, (sent, total) => status.replaceChildren(progressBar(t("imports.uploading"), sent, total)));
      }
      history.replaceState(null, "", `?id=${encodeURIComponent(created.id)}`);
      await follow(created.id, status, scope);
    } catch (error) {
      status.replaceChildren(errorBox(error));
    } finally {
      submit.disabled = false;
    }
  });
  const id = query.get("id");
  if (id) {
    try {
      await follow(id, status, scope);
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  } else {
    try {
      const recent = await get<{ imports?: ImportJob[] }>("/v1/imports");
      status.replaceChildren(
        table(t("imports.recent"), [
          { label: t("imports.file"), value: (j) => h("a", { href: `?id=${encodeURIComponent(j.id)}` }, j.filename ?? j.id) },
          { label: t("imports.state"), value: (j) => t(`imports.state.${j.state}`) },
          { label: t("imports.created"), value: (j) => when(j.created_at) },
        ], recent.imports ?? [], t("imports.none")),
      );
    } catch (error) {
      status.replaceChildren(error instanceof ApiError && error.status >= 500 ? errorBox(error) : h("p", { class: "empty" }, t("imports.none")));
    }
  }
};
