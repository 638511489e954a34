// Where the API is and how to sign in: /app/config.json in AWS (written at deploy time from the stack
// outputs, docs/console.md); without it, the local runtime: same origin, local tokens.
export interface ConsoleConfig {
  apiBase: string;
  auth: "local" | "cognito";
  cognitoDomain?: string;
  clientId?: string;
}

let current: ConsoleConfig = { apiBase: "", auth: "local" };

export function config(): ConsoleConfig {
  return current;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  try {
    const response = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-cache" });
    const type = response.headers.get("content-type") ?? "";
    if (response.ok && type.includes("json")) {
      const data = (await response.json()) as Partial<ConsoleConfig>;
      current = { apiBase: (data.apiBase ?? "").replace(/\/$/, ""), auth: data.auth === "cognito" ? "cognito" : "local", cognitoDomain: data.cognitoDomain, clientId: data.clientId };
    }
  } catch {
    // no config: the local runtime
  }
  return current;
}
