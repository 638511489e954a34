// Sign-in. Locally: the runtime's bearer tokens (ENGAGE_MARKETER_TOKEN / ENGAGE_ADMIN_TOKEN). In AWS: the
// Cognito user pool's hosted UI, authorization code with PKCE; the ID token carries cognito:groups.
import { config } from "./config";

export type Role = "admin" | "marketer";

export interface Session {
  token: string;
  role: Role;
  name: string;
  expiresAt: number | null; // epoch ms
}

const KEY = "engage.session";
const PKCE = "engage.pkce";
let notice: string | null = null;

export function session(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Session;
    if (s.expiresAt && s.expiresAt < Date.now()) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

export function isAdmin(): boolean {
  return session()?.role === "admin";
}

export function signInLocal(token: string, role: Role): void {
  sessionStorage.setItem(KEY, JSON.stringify({ token: token.trim(), role, name: `${role} (local)`, expiresAt: null } satisfies Session));
}

/** Why the user was signed out (shown once on the sign-in page). */
export function takeNotice(): string | null {
  const n = notice;
  notice = null;
  return n;
}

export function signOut(why?: string): void {
  sessionStorage.removeItem(KEY);
  notice = why ?? null;
  const cfg = config();
  if (!why && cfg.auth === "cognito" && cfg.cognitoDomain && cfg.clientId) {
    const back = `${location.origin}${import.meta.env.BASE_URL}`;
    location.assign(`${cfg.cognitoDomain}/logout?client_id=${encodeURIComponent(cfg.clientId)}&logout_uri=${encodeURIComponent(back)}`);
    return;
  }
  window.dispatchEvent(new CustomEvent("engage:signed-out"));
}

function base64url(bytes: Uint8Array): string {
  let text = "";
  bytes.forEach((b) => (text += String.fromCharCode(b)));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function redirectUri(): string {
  return `${location.origin}${import.meta.env.BASE_URL}callback`;
}

export async function signInHostedUi(): Promise<void> {
  const cfg = config();
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(48)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: cfg.clientId ?? "",
    redirect_uri: redirectUri(),
    scope: "openid email profile",
    code_challenge_method: "S256",
    code_challenge: challenge,
    state,
  });
  location.assign(`${cfg.cognitoDomain}/oauth2/authorize?${query}`);
}

/** The hosted UI's redirect back: exchange the code (with the PKCE verifier) for tokens. */
export async function completeHostedUi(params: URLSearchParams): Promise<void> {
  const cfg = config();
  const saved = JSON.parse(sessionStorage.getItem(PKCE) ?? "{}") as { verifier?: string; state?: string };
  sessionStorage.removeItem(PKCE);
  if (params.get("error")) throw new Error(params.get("error_description") ?? params.get("error") ?? "sign-in failed");
  if (!saved.verifier || params.get("state") !== saved.state) throw new Error("sign-in state mismatch");
  const response = await fetch(`${cfg.cognitoDomain}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: cfg.clientId ?? "",
      code: params.get("code") ?? "",
      redirect_uri: redirectUri(),
      code_verifier: saved.verifier,
    }),
  });
  if (!response.ok) throw new Error(`token exchange failed (HTTP ${response.status})`);
  const tokens = (await response.json()) as { id_token: string };
  const claims = JSON.parse(atob(tokens.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
  const groups = (claims["cognito:groups"] as string[] | undefined) ?? [];
  sessionStorage.setItem(
    KEY,
    JSON.stringify({
      token: tokens.id_token,
      role: groups.includes("admin") ? "admin" : "marketer",
      name: String(claims.email ?? claims["cognito:username"] ?? ""),
      expiresAt: typeof claims.exp === "number" ? claims.exp * 1000 : null,
    } satisfies Session),
  );
}
