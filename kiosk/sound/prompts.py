"""Every spoken prompt in one table: prompt id -> the Chinese and the English text.

Counted prompts ("借书成功，共三册") are whole sentences made for each count from 1 to
`MAX_COUNT`, each its own file (`borrowed.3`): espeak-ng gives a sentence one intonation, while
pieces joined at play time ("借书成功，共" + "三" + "册") come out with a pause and a pitch
reset around the number, and need a queue of sounds. A count above `MAX_COUNT` is said without
its number (`borrowed.many`). Chinese numbers are written out so that 2 is 两 (两册, not 二册).
Pure; imported by the player, the build step and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("zh_CN", "en")
MAX_COUNT = 20  # a kiosk session rarely lends more; above it the sentence has no number


@dataclass(frozen=True)
class Prompt:
    zh: str
    en: str

    def text(self, language: str) -> str:
        return self.zh if language == "zh_CN" else self.en


PROMPTS: dict[str, Prompt] = {
    # Screens and steps.
    "welcome": Prompt("欢迎使用自助借还机，请触摸屏幕开始。",
                      "Welcome. Touch the screen to start."),
    "choose_service": Prompt("请选择：借书、还书、我的借阅，或电子书。",
                             "Please choose: borrow, return, my account, or e-books."),
    "scan_card": Prompt("请刷读者证，或输入读者证号。",
                        "Please scan your library card, or type its number."),
    "enter_pin": Prompt("请输入密码。", "Please enter your PIN."),
    "place_books": Prompt("请放置图书。", "Please place your books on the pad."),
    "place_returns": Prompt("请放置要归还的图书。", "Please place the books to return on the pad."),
    "account": Prompt("这是您的借阅记录，可以续借。", "Here are your loans. You can renew them."),
    "ebooks": Prompt("请选择电子书，用手机扫码下载。",
                     "Choose an e-book, then scan its code with your phone."),
    "ebook_search": Prompt("请输入书名、作者或拼音。", "Type a title, an author, or pinyin."),
    "ebook_title": Prompt("请用手机扫描二维码下载。", "Scan the code with your phone to download."),
    "out_of_service": Prompt("暂停服务，请联系工作人员。",
                             "Out of service. Please ask a member of staff."),
    # The idle countdown.
    "still_there": Prompt("您还在吗？如需继续，请触摸屏幕。",
                          "Are you still there? Touch the screen to continue."),
    # Sessions ending.
    "goodbye_card": Prompt("谢谢，请取走您的读者证。", "Thank you. Please take your library card."),
    "goodbye": Prompt("谢谢使用，再见。", "Thank you. Goodbye."),
    # Books and cards refused.
    "book_refused": Prompt("有图书未能办理，请查看屏幕提示。",
                           "A book could not be processed. Please see the screen."),
    "book_to_staff": Prompt("请将此书交给工作人员。",
                            "Please hand this book to a member of staff."),
    "wrong_pin": Prompt("密码错误，请重新输入。", "Wrong PIN. Please try again."),
    "pin_locked": Prompt("密码错误次数过多，请联系工作人员。",
                         "Too many wrong PINs. Please ask a member of staff."),
    "card_number_wrong": Prompt(
        "这个读者证号不对，请核对后重新输入。",
        "That card number is not right. Please check it and type it again."),
    "blocked": Prompt("您的读者证暂时不能借书，请到服务台办理。",
                      "Your card cannot borrow books right now. Please go to the service desk."),
    "unknown_card": Prompt("无法识别此读者证，请联系工作人员。",
                           "This card is not recognised. Please ask a member of staff."),
    "ils_unavailable": Prompt("图书馆系统暂时无法连接，请稍后再试。",
                              "The library system cannot be reached. Please try again later."),
    "not_set_up": Prompt("本机暂不提供借还服务。",
                         "Borrowing and returning are not available on this kiosk."),
    "card_first": Prompt("请先刷读者证。", "Please scan your library card first."),
    "not_library_code": Prompt("这不是图书馆的条码。", "That is not a library code."),
}


@dataclass(frozen=True)
class Counted:
    """A sentence with a count of books: `{n}` is the number, written out in Chinese."""
    zh: str
    en_one: str
    en_more: str
    zh_many: str  # above MAX_COUNT, without the number
    en_many: str

    def prompt(self, n: int | None) -> Prompt:
        if n is None:
            return Prompt(self.zh_many, self.en_many)
        return Prompt(self.zh.format(n=chinese_number(n)),
                      (self.en_one if n == 1 else self.en_more).format(n=n))


COUNTED: dict[str, Counted] = {
    "borrowed": Counted("借书成功，共{n}册。", "Done. One book borrowed.",
                        "Done. {n} books borrowed.",
                        "借书成功，请查看凭条。", "Done. Your books are listed on the receipt."),
    "returned": Counted("还书成功，共{n}册。", "Done. One book returned.",
                        "Done. {n} books returned.",
                        "还书成功，请查看凭条。", "Done. Your books are listed on the receipt."),
    "renewed": Counted("续借成功，共{n}册。", "Done. One book renewed.",
                       "Done. {n} books renewed.",
                       "续借成功，请查看凭条。", "Done. Your books are listed on the receipt."),
}

# What espeak-ng's dictionary reads wrongly, given to it as pinyin (the voice `cmn-latn-pinyin`
# reads Latin letters as pinyin): 还 is hai2 in its dictionary, huan2 when books go back; 重新
# is chong2, not zhong4; and a few words it says with a neutral tone.
PRONOUNCE = {
    "还书": " huan2 shu1 ", "借还": " jie4 huan2 ", "归还": " gui1 huan2 ",
    "重新": " chong2 xin1 ", "欢迎": " huan1 ying2 ", "服务": " fu2 wu4 ",
    "识别": " shi2 bie2 ", "电子": " dian4 zi3 ",
}


def spoken(text: str, language: str) -> str:
    """The text as the speech engine is given it."""
    if language == "zh_CN":
        for word, pinyin in PRONOUNCE.items():
            text = text.replace(word, pinyin)
    return text


DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..99 as a count before a measure word: 两 for 2, 十二, 二十, 二十二."""
    if not 1 <= n <= 99:
        raise ValueError(f"a count from 1 to 99 (got {n})")
    if n == 2:
        return "两"
    tens, ones = divmod(n, 10)
    if tens == 0:
        return DIGITS[ones]
    return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")


def counted_id(kind: str, n: int) -> str:
    """The prompt id of `kind` ("borrowed") for `n` books."""
    if kind not in COUNTED:
        raise KeyError(kind)
    return f"{kind}.{n}" if n <= MAX_COUNT else f"{kind}.many"


def all_prompts() -> dict[str, Prompt]:
    """Every prompt id with its text, counted ones included: what the build step renders."""
    found = dict(PROMPTS)
    for kind, counted in COUNTED.items():
        for n in range(1, MAX_COUNT + 1):
            found[f"{kind}.{n}"] = counted.prompt(n)
        found[f"{kind}.many"] = counted.prompt(None)
    return found
