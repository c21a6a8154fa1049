"""What leaves the handling staff (public excerpts, public exports, feedback reports) carries no
identity or mobile number, even one typed in full-width digits or split by dashes."""

from __future__ import annotations

from publisher.review.personal import masked_text


def test_valid_identity_numbers_and_mobiles_are_masked_in_place() -> None:
    text = "我的身份证11010519491231002X，电话 138-1234-5678。"
    assert masked_text(text) == "我的身份证110***********002X，电话 138-****-5678。"


def test_full_width_digits_do_not_slip_past_the_mask() -> None:
    assert masked_text("手机１３８１２３４５６７８") == "手机１３８****５６７８"


def test_an_eighteen_digit_case_number_without_a_valid_checksum_stays_as_written() -> None:
    assert masked_text("案号123456789012345678") == "案号123456789012345678"
