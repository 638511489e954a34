// The public API, with the signed-in user's bearer token; errors become ApiError with what to do.
import { t, has, type Key } from "./i18n";
import { session, signOut } from "./auth";
import { config } from "./config";

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The route does not exist on this server (API Gateway's 404 without our error body, or 501). */
  get notAvailable(): boolean {
    return this.code === "not_available";
  }

  hint(): string {
    const byCode = `hint.code.${this.code}`;
    if (has(byCode)) return t(byCode as Key);
    const byStatus = `hint.${this.status}`;
    if (has(byStatus)) return t(byStatus as Key);
    if (this.status >= 500) return t("hint.500");
    return t("hint.400");
  }
}

type Body = unknown;

export async function api<T = Record<string, unknown>>(method: string, path: string, body?: Body, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const token = session()?.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (typeof body === "string") {
    headers["content-type"] = "text/csv";
    payload = body;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(config().apiBase + path, { method, headers, body: payload, ...init });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network", t("error.network"));
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.ok) return data as T;
  const error = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
  if (response.status === 401) {
    signOut(t("error.sessionEnded"));
    throw new ApiError(401, "unauthorized", t("error.sessionEnded"));
  }
  if ((response.status === 404 && !error) || response.status === 501) {
    throw new ApiError(response.status, "not_available", t("common.notAvailable"));
  }
  const message = error?.message ?? (data as { message?: string } | null)?.message ?? `HTTP ${response.status}`;
  throw new ApiError(response.status, error?.code ?? `http_${response.status}`, message, error?.details ?? {});
}

export const get = <T = Record<string, unknown>>(path: string, init?: RequestInit) => api<T>("GET", path, undefined, init);
export const post = <T = Record<string, unknown>>(path: string, body?: Body) => api<T>("POST", path, body ?? {});
export const put = <T = Record<string, unknown>>(path: string, body?: Body) => api<T>("PUT", path, body);
export const patch = <T = Record<string, unknown>>(path: string, body?: Body) => api<T>("PATCH", path, body);
export const del = <T = Record<string, unknown>>(path: string) => api<T>("DELETE", path);

/** Pages through a cursor-paged list (`{<key>: [...], cursor}`) up to `limit` items. */
export async function all<T>(path: string, key: string, limit = 5000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page: Record<string, unknown> = await get(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    out.push(...((page[key] as T[]) ?? []));
    cursor = (page.cursor as string | null) ?? null;
  } while (cursor && out.length < limit);
  return out;
}
