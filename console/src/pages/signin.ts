// Sign-in: the hosted UI (PKCE) in AWS, the local runtime's tokens locally.
import { config } from "../config";
import { signInHostedUi, signInLocal, takeNotice, type Role } from "../auth";
import { t } from "../i18n";
import { h, field, append } from "../ui";
import { navigate } from "../router";

export async function signInPage(main: HTMLElement): Promise<void> {
  const notice = takeNotice();
  append(main, h("h1", { tabindex: "-1" }, t("auth.title")));
  if (notice) main.append(h("p", { class: "error", role: "alert" }, notice));
  if (config().auth === "cognito") {
    main.append(h("p", {}, t("auth.hostedUiIntro")), h("button", { type: "button", class: "primary", onclick: () => void signInHostedUi() }, t("auth.signInHostedUi")));
    return;
  }
  const token = h("input", { id: "token", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const role = h("select", { id: "role" }, h("option", { value: "marketer" }, t("role.marketer")), h("option", { value: "admin" }, t("role.admin")));
  const form = h(
    "form",
    { class: "card narrow", "aria-describedby": "signin-intro" },
    h("p", { id: "signin-intro" }, t("auth.localIntro")),
    field(t("auth.role"), role),
    field(t("auth.token"), token, t("auth.tokenHelp")),
    h("button", { type: "submit", class: "primary" }, t("auth.signIn")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!token.value.trim()) {
      token.setAttribute("aria-invalid", "true");
      token.focus();
      return;
    }
    signInLocal(token.value, role.value as Role);
    navigate(location.pathname.endsWith("/callback") ? "/" : location.pathname + location.search, true);
  });
  main.append(form);
}
