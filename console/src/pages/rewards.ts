// Rewards: coupon pools and their stats, the referral programme and its top inviters.
import { get } from "../api";
import { t } from "../i18n";
import { h, section, table, errorBox, loading, num } from "../ui";
import type { Page } from "../router";

type Row = Record<string, unknown>;

function cell(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return num(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export const rewardsPage: Page = async (main) => {
  main.append(h("h1", { tabindex: "-1" }, t("rewards.title")));
  const pools = h("div", {}, loading());
  const referrals = h("div", {}, loading());
  main.append(section(t("rewards.pools"), pools), section(t("rewards.referrals"), referrals));
  try {
    const found = await get<{ pools: Row[] }>("/v1/coupons/pools");
    const list = found.pools ?? [];
    const keys = ["id", "name", "validity", "issued", "redeemed", "available", "limit"].filter((k) => list.some((p) => k in p));
    pools.replaceChildren(table(t("rewards.pools"), (keys.length ? keys : Object.keys(list[0] ?? {}).slice(0, 6)).map((k) => ({ label: k, value: (p: Row) => cell(p[k]), numeric: typeof list[0]?.[k] === "number" })), list, t("rewards.noPools")));
  } catch (error) {
    pools.replaceChildren(errorBox(error));
  }
  try {
    const stats = await get<Row>("/v1/referrals");
    const top = (stats.top_inviters ?? stats.top ?? []) as Row[];
    const facts = Object.entries(stats).filter(([, v]) => typeof v !== "object" || v === null);
    referrals.replaceChildren(
      h("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")), h("dd", {}, cell(v))])),
      table(t("rewards.topInviters"), Object.keys(top[0] ?? { customer: 1, invites: 1 }).map((k) => ({ label: k, value: (r: Row) => cell(r[k]) })), top, t("rewards.noInviters")),
    );
  } catch (error) {
    referrals.replaceChildren(errorBox(error));
  }
};
