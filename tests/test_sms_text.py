"""GSM-7 rendering, segment counting and paging of SMS answers."""

from bot.messages import Choice, Reply
from bot.sms_text import PAGE_SEPTETS, is_gsm, paginate, render_reply, segments, septets, to_gsm


def test_french_typography_becomes_gsm7() -> None:
    """Quotes, ê, ç, œ and dashes are spelt in GSM-7; é è à ù Ç stay as they are."""
    text = "« Où êtes-vous ? » – c’est l’œuvre de Françoise… Ça, é è à ù"
    rendered = to_gsm(text)
    assert is_gsm(rendered)
    assert rendered == "\" Où etes-vous ? \" - c'est l'oeuvre de Francoise... Ça, é è à ù"


def test_segment_counts_follow_twilio() -> None:
    """160 GSM-7 characters are one segment, 161 are two; one ê makes the message UCS-2."""
    assert segments("a" * 160).count == 1
    assert segments("a" * 161).count == 2
    assert segments("a" * 306).count == 2
    assert segments("a" * 307).count == 3
    assert segments("€" * 80).count == 1  # the extension table counts twice
    assert segments("ê" * 70).count == 1 and segments("ê" * 70).encoding == "UCS-2"
    assert segments("ê" * 71).count == 2


def test_numbered_choices_are_rendered() -> None:
    """Choices become numbered lines the person answers with a digit."""
    reply = Reply("Choisissez :", (Choice("a", "Dormir ce soir"), Choice("b", "Douche")))
    assert render_reply(reply) == "Choisissez :\n1 Dormir ce soir\n2 Douche"


def test_long_text_is_paged_within_two_segments() -> None:
    """A long answer is cut at line ends into pages of at most two segments, each but the last saying SUITE."""
    text = "\n".join(f"Ligne {i} : un accueil de jour avec douche et repas" for i in range(30))
    pages = paginate(text, "SUITE pour lire la suite")
    assert len(pages) > 1
    assert all(septets(page) <= PAGE_SEPTETS for page in pages)
    assert all(page.endswith("SUITE pour lire la suite") for page in pages[:-1])
    assert "\n".join(p.removesuffix("\nSUITE pour lire la suite") for p in pages) == text


def test_one_huge_line_is_cut_at_words() -> None:
    """A single line longer than a page is cut between words, nothing lost."""
    text = " ".join(["mot"] * 300)
    pages = paginate(text, "SUITE")
    assert all(septets(page) <= PAGE_SEPTETS for page in pages)
    assert " ".join(p.removesuffix("\nSUITE") for p in pages).split() == text.split()


def test_a_pinned_line_ends_the_first_page() -> None:
    """A confirmation code is on the first page, before SUITE, and nowhere else; nothing is lost."""
    text = "\n".join(f"Ligne {i} : un accueil de jour avec douche et repas" for i in range(12))
    pin = "Pour confirmer, repondez OUI 4721 (NON pour annuler)."
    pages = paginate(text, "SUITE", pinned=pin)
    assert len(pages) > 1
    assert pages[0].endswith(f"\n{pin}\nSUITE")
    assert all(septets(page) <= PAGE_SEPTETS for page in pages)
    assert sum(page.count("OUI 4721") for page in pages) == 1
    rest = [p.removesuffix("\nSUITE") for p in pages]
    rest[0] = rest[0].removesuffix(f"\n{pin}")
    assert "\n".join(rest) == text
    assert paginate("Court.", "SUITE", pinned=pin) == [f"Court.\n{pin}"]
