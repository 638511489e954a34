"""Marketing consent from what customers write: STOP and its translations, START, button payloads.

Matching is on the whole message, case-, accent- and punctuation-insensitive ("Stop!",
"STOPP", "стоп", "Arrêter" all match), so "please stop sending my order to the old address"
is never an opt-out. Every list is configuration (`InboundConfig`, CONFIG / webhook).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Action = Literal["opt_out", "opt_in"]

DEFAULT_OPT_OUT: dict[str, list[str]] = {
    "en": ["stop", "stop all", "stopall", "unsubscribe", "stop promotions", "opt out", "optout"],
    "de": ["stopp", "abmelden", "abbestellen", "austragen", "keine werbung"],
    "es": ["parar", "baja", "darme de baja", "cancelar suscripcion", "no mas"],
    "pt": ["pare", "sair", "cancelar inscricao", "descadastrar"],
    "fr": ["arret", "arreter", "desabonner", "me desabonner", "desinscrire"],
    "it": ["basta", "disiscriviti", "annulla iscrizione"],
    "nl": ["stoppen", "afmelden", "uitschrijven"],
    "ru": ["стоп", "отписаться", "отписка", "остановить"],
    "tr": ["dur", "abonelikten cik"],
    "ar": ["توقف", "ايقاف", "الغاء الاشتراك"],
}

DEFAULT_OPT_IN: dict[str, list[str]] = {
    "en": ["start", "unstop", "subscribe", "opt in", "optin", "resume"],
    "de": ["anmelden", "abonnieren"],
    "es": ["iniciar", "comenzar", "alta", "suscribirme"],
    "pt": ["comecar", "inscrever"],
    "fr": ["demarrer", "commencer", "abonner"],
    "it": ["inizia", "iscriviti"],
    "nl": ["starten", "aanmelden"],
    "ru": ["старт", "подписаться"],
    "tr": ["basla", "abone ol"],
    "ar": ["ابدا", "اشتراك"],
}

DEFAULT_CONFIRMATIONS: dict[str, dict[str, str]] = {
    "opt_out": {
        "en": "You will no longer receive promotional messages from us. Reply START to opt back in.",
        "de": "Du erhältst keine Werbenachrichten mehr von uns. Antworte START, um sie wieder zu erhalten.",
        "es": "Ya no recibirás mensajes promocionales. Responde START para volver a suscribirte.",
        "pt": "Você não receberá mais mensagens promocionais. Responda START para voltar a recebê-las.",
        "fr": "Vous ne recevrez plus nos messages promotionnels. Répondez START pour vous réabonner.",
        "it": "Non riceverai più messaggi promozionali. Rispondi START per iscriverti di nuovo.",
        "nl": "Je ontvangt geen promotieberichten meer. Antwoord START om je weer aan te melden.",
        "ru": "Вы больше не будете получать рекламные сообщения. Ответьте START, чтобы подписаться снова.",
        "tr": "Artık tanıtım mesajları almayacaksınız. Tekrar abone olmak için START yazın.",
        "ar": "لن تصلك رسائل ترويجية بعد الآن. أرسل START للاشتراك مجددًا.",
    },
    "opt_in": {
        "en": "You're subscribed to our offers again. Reply STOP to opt out at any time.",
        "de": "Du erhältst wieder unsere Angebote. Antworte STOP, um dich jederzeit abzumelden.",
        "es": "Vuelves a recibir nuestras ofertas. Responde STOP para darte de baja cuando quieras.",
        "pt": "Você voltou a receber nossas ofertas. Responda STOP para sair a qualquer momento.",
        "fr": "Vous recevez à nouveau nos offres. Répondez STOP pour vous désabonner à tout moment.",
        "it": "Riceverai di nuovo le nostre offerte. Rispondi STOP per annullare in qualsiasi momento.",
        "nl": "Je ontvangt onze aanbiedingen weer. Antwoord STOP om je op elk moment af te melden.",
        "ru": "Вы снова подписаны на наши предложения. Ответьте STOP, чтобы отписаться.",
        "tr": "Kampanyalarımıza yeniden abone oldunuz. Çıkmak için STOP yazın.",
        "ar": "تم اشتراكك في عروضنا مجددًا. أرسل STOP لإلغاء الاشتراك في أي وقت.",
    },
}

MAX_KEYWORD_TEXT = 60  # longer messages are conversation, not a keyword


def normalise(text: str) -> str:
    """Case-folded, accents and punctuation dropped, words joined by one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+", plain))


def keyword_index(opt_out: dict[str, list[str]], opt_in: dict[str, list[str]]) -> dict[str, tuple[Action, str]]:
    """normalised keyword -> (action, language). Opt-out wins when a word is in both lists."""
    index: dict[str, tuple[Action, str]] = {}
    for action, lists in (("opt_in", opt_in), ("opt_out", opt_out)):
        for language, words in lists.items():
            for word in words:
                if normalise(word):
                    index[normalise(word)] = (action, language)  # type: ignore[assignment]
    return index


def match_keyword(text: str | None, index: dict[str, tuple[Action, str]]) -> tuple[Action, str] | None:
    if not text or len(text) > MAX_KEYWORD_TEXT:
        return None
    return index.get(normalise(text))
