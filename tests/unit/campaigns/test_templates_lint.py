"""Content lint: the playbook's rules as warnings, at their edges."""

from __future__ import annotations

from engage.campaigns.templates import Template, TemplateIn, check_parameters, lint_template, lint_text
from engage.delivery.config import SendingConfig

CFG = SendingConfig()
GOOD = "Hi {{name}}, your winter picks are here.\nUse code WINTER for 20% off.\nTap Shop now to get yours."


def test_a_good_message_is_clean():
    assert lint_text(GOOD, CFG) == []


def test_too_few_and_too_many_lines():
    assert any("line(s)" in w for w in lint_text("Hi {{name}}. Tap Shop now.", CFG))
    six = "\n".join(["Hi {{name}}."] + ["More news."] * 4 + ["Tap Shop now."])
    assert any("6 line(s)" in w for w in lint_text(six, CFG))


def test_more_than_50_words_and_long_sentences():
    long_sentence = "Hi {{name}}, " + " ".join(["word"] * 15) + ".\nSecond line.\nTap Shop now."
    warnings = lint_text(long_sentence, CFG)
    assert any("sentence of" in w for w in warnings)
    many = "Hi {{name}}.\n" + ". ".join(["five words in a row"] * 11) + ".\nTap Shop now."
    assert any("words; keep it to 50" in w for w in lint_text(many, CFG))


def test_the_name_must_come_in_the_first_ten_words():
    late = "One two three four five six seven eight nine ten {{name}}.\nLine two.\nTap Shop now."
    assert any("personal" in w for w in lint_text(late, CFG))


def test_the_last_line_needs_a_call_to_action():
    assert any("call to action" in w for w in lint_text("Hi {{name}}.\nNice weather.\nThanks.", CFG))


def test_marketing_templates_want_an_opt_out_and_urgency_is_flagged():
    template = TemplateIn(name="t", body="Hi {{1}}, last chance!\nOnly today.\nTap Shop now.")
    warnings = lint_template(template, CFG)
    assert any("opt-out" in w for w in warnings) and any("urgency" in w for w in warnings)


def test_parameter_count_must_match_the_template():
    template = Template(name="t", body="Hi {{1}}, code {{2}}", created_at="2026-11-23T10:00:00Z")
    assert check_parameters(template, ["{{name}}"])
    assert check_parameters(template, ["{{name}}", "{{coupon}}"]) == []
