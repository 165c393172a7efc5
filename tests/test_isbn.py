"""ISBNs as staff type them into the metadata sheet: checked, normalised, and each refusal
says in Chinese and English what is wrong and how to fix it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.isbn import IsbnError, normalise_isbn, same_book
from tests.property_budget import PARSER_BUDGET


@pytest.mark.parametrize("typed, kept", [
    ("9787020002207", "9787020002207"),
    ("978-7-02-000220-7", "9787020002207"),
    ("978 7 02 000220 7", "9787020002207"),
    ("ISBN 978-7-02-000220-7", "9787020002207"),  # as printed on the back cover
    ("ISBN：９７８－７－０２－０００２２０－７", "9787020002207"),  # typed with a Chinese IME
    ("0-8044-2957-X", "080442957X"),
    ("080442957x", "080442957X"),
    ("", ""),  # the manifest allows a title without an ISBN
    ("  ", ""),
])
def test_a_good_isbn_is_kept_as_its_digits(typed, kept):
    assert normalise_isbn(typed) == kept


@pytest.mark.parametrize("typed, zh, en", [
    ("12345", "5 位", "5 digits"),
    ("ISBN abc", "abc", "abc"),
    ("978-7-02-000220-8", "校验位", "check digit"),
    ("0-8044-2957-1", "校验位", "check digit"),
    ("1234567890128", "978", "978 or 979"),
    ("97870200022X7", "X", "X"),
])
def test_a_wrong_isbn_is_refused_with_the_reason(typed, zh, en):
    with pytest.raises(IsbnError) as refused:
        normalise_isbn(typed)
    assert zh in refused.value.zh and en in refused.value.en
    assert str(refused.value).index(refused.value.zh) < str(refused.value).index(refused.value.en)


@pytest.mark.parametrize("typed", ["9.78702000022e12", "9.78702E+12", "9.787020002207E+12"])
def test_an_isbn_excel_turned_into_a_number_says_how_to_type_it_again(typed):
    with pytest.raises(IsbnError) as refused:
        normalise_isbn(typed)
    assert "文本" in refused.value.zh and "Excel" in refused.value.zh
    assert "format the column as Text" in refused.value.en and typed in refused.value.en


def test_an_isbn_10_that_lost_its_leading_zero_says_so():
    with pytest.raises(IsbnError) as refused:
        normalise_isbn("306406152")  # 0-306-40615-2 read as a number
    assert "0306406152" in refused.value.zh and "leading 0" in refused.value.en


def test_an_isbn_10_and_its_isbn_13_are_the_same_book():
    assert same_book("0306406152") == same_book("9780306406157") == "9780306406157"
    assert same_book("080442957X") == "9780804429573"


ISBN_LIKE = st.text(st.sampled_from("0123456789Xx- ISBN：９－.e+\u00b2\u0663"), max_size=20)


@PARSER_BUDGET
@given(st.one_of(ISBN_LIKE, st.text(max_size=20)))
def test_any_cell_gives_a_checked_isbn_or_the_reason(typed):
    try:
        isbn = normalise_isbn(typed)
    except IsbnError as e:
        assert e.zh and e.en
        return
    assert isbn == "" or (len(isbn) in (10, 13) and normalise_isbn(isbn) == isbn)
    assert len(same_book(isbn)) in (0, 13)
