// Rewards: coupon pools and their stats, the referral programme's figures and its top inviters.
import { get } from "../api";
import { t } from "../i18n";
import { h, section, table, errorBox, loading, num, pct, badge } from "../ui";
import type { Page } from "../router";

type Row = Record<string, unknown>;
type Pool = Row & { id: string; name?: string; status?: string; valid_hours?: number | null; stats?: Row };

function cell(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return num(v);
  if (typeof v === "object") return Object.entries(v as Row).map(([k, x]) => `${k.replace(/_/g, " ")}: ${cell(x)}`).join(", ");
  return String(v);
}

export const rewardsPage: Page = async (main) => {
  main.append(h("h1", { tabindex: "-1" }, t("rewards.title")));
  const pools = h("div", {}, loading());
  const referrals = h("div", {}, loading());
  main.append(section(t("rewards.pools"), pools), section(t("rewards.referrals"), referrals));
  try {
    const found = await get<{ pools: Pool[] }>("/v1/coupons/pools");
    const stat = (p: Pool, k: string) => (p.stats ?? p)[k];
    pools.replaceChildren(
      table(t("rewards.pools"), [
        { label: t("campaigns.name"), value: (p) => String(p.name ?? p.id) },
        { label: t("campaigns.status"), value: (p) => badge(String(p.status ?? "–"), p.status === "open" ? "ok" : "none") },
        { label: t("rewards.validity"), value: (p) => (p.valid_hours ? `${p.valid_hours} h` : "–") },
        { label: t("rewards.issued"), value: (p) => cell(stat(p, "issued")), numeric: true },
        { label: t("rewards.redeemed"), value: (p) => cell(stat(p, "redeemed")), numeric: true },
        { label: t("rewards.rate"), value: (p) => pct(stat(p, "redemption_rate") as number | undefined), numeric: true },
        { label: t("rewards.expired"), value: (p) => cell(stat(p, "expired")), numeric: true },
        { label: t("rewards.revenue"), value: (p) => cell(stat(p, "revenue")), numeric: true },
      ], found.pools ?? [], t("rewards.noPools")),
    );
  } catch (error) {
    pools.replaceChildren(errorBox(error));
  }
  try {
    const programme = await get<Row>("/v1/referrals");
    const stats = (programme.stats as Row | undefined) ?? Object.fromEntries(Object.entries(programme).filter(([, v]) => typeof v !== "object"));
    const top = ((programme.top_inviters ?? programme.top ?? []) as Row[]) ?? [];
    referrals.replaceChildren(
      h("dl", { class: "facts" }, ...Object.entries(stats).flatMap(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")), h("dd", {}, cell(v))])),
      table(t("rewards.topInviters"), Object.keys(top[0] ?? {}).map((k) => ({ label: k.replace(/_/g, " "), value: (r: Row) => cell(r[k]), numeric: typeof top[0]?.[k] === "number" })), top, t("rewards.noInviters")),
    );
  } catch (error) {
    referrals.replaceChildren(errorBox(error));
  }
};
