// WhatsApp error codes a marketer meets, with what to do (shared/reference/whatsapp.md; docs/sending.md).
import { language } from "./i18n";

const CODES: Record<string, [string, string, string, string]> = {
  // code: [meaning en, what to do en, meaning de, what to do de]
  "131026": ["Message undeliverable (not on WhatsApp, old app, or terms not accepted)", "Clean the list: these numbers are marked undeliverable.", "Nachricht nicht zustellbar (kein WhatsApp, alte App oder Bedingungen nicht akzeptiert)", "Liste bereinigen: diese Nummern sind als unzustellbar markiert."],
  "131047": ["More than 24 hours since the customer last wrote", "Use an approved template outside the service window.", "Mehr als 24 Stunden seit der letzten Nachricht des Kunden", "Außerhalb des Service-Fensters eine freigegebene Vorlage verwenden."],
  "131049": ["Meta limited marketing messages to this user", "Wait at least 24 hours; do not retry at once.", "Meta hat Marketing-Nachrichten an diese Person begrenzt", "Mindestens 24 Stunden warten, nicht sofort erneut senden."],
  "131050": ["The user stopped marketing messages", "Honoured as an opt-out until they opt in again.", "Die Person hat Marketing-Nachrichten abbestellt", "Gilt als Abmeldung, bis sie wieder zustimmt."],
  "131048": ["Spam rate limit: too many blocks or reports", "Pause, review targeting and content; quality is at risk.", "Spam-Limit: zu viele Blockierungen oder Meldungen", "Pausieren, Zielgruppe und Inhalt prüfen; die Qualität ist gefährdet."],
  "131056": ["Too many messages to the same user at once (pair rate)", "Sends are spaced automatically; nothing to do.", "Zu viele Nachrichten an dieselbe Person (Paar-Limit)", "Sendungen werden automatisch verteilt; nichts zu tun."],
  "130429": ["Throughput limit reached", "Sends are retried at a lower rate automatically.", "Durchsatzgrenze erreicht", "Sendungen werden automatisch langsamer wiederholt."],
  "131000": ["Unknown error at WhatsApp", "Retried automatically; contact Meta support if it persists.", "Unbekannter Fehler bei WhatsApp", "Wird automatisch wiederholt; bei Dauer Meta-Support kontaktieren."],
  "132001": ["Template missing in this language", "Check the template name and language in WhatsApp Manager.", "Vorlage in dieser Sprache nicht vorhanden", "Vorlagenname und Sprache im WhatsApp Manager prüfen."],
  "132015": ["Template paused for low quality", "Edit the template or pick another; campaigns using it are paused.", "Vorlage wegen niedriger Qualität pausiert", "Vorlage überarbeiten oder eine andere wählen; Kampagnen damit sind pausiert."],
  "132016": ["Template disabled for low quality", "Create a new template; this one cannot be used again.", "Vorlage wegen niedriger Qualität deaktiviert", "Neue Vorlage anlegen; diese ist nicht mehr nutzbar."],
  "368": ["Account restricted for policy violations", "Stop sending and check the account in WhatsApp Manager.", "Konto wegen Richtlinienverstößen eingeschränkt", "Senden stoppen und das Konto im WhatsApp Manager prüfen."],
};

export function whatsappError(code: string): { meaning: string; todo: string } {
  const found = CODES[code];
  const de = language() === "de";
  if (!found) return { meaning: de ? "Anderer WhatsApp-Fehler" : "Other WhatsApp error", todo: de ? "Im WhatsApp-Fehlerverzeichnis nachsehen." : "Look it up in WhatsApp's error reference." };
  return de ? { meaning: found[2], todo: found[3] } : { meaning: found[0], todo: found[1] };
}
